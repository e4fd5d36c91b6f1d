// Rebuild tests/dex/contracts/tokens.json (the tokens the DEX check is tested on) from
// TestTokens.sol:   cd tools/evm && npm ci && node build-test-tokens.mjs
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "./compile.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = join(root, "tests", "dex", "contracts");
const names = compile([join(dir, "TestTokens.sol")], join(dir, "tokens.json"), root);
console.log(`built ${names.join(", ")}`);
