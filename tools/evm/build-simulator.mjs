// Rebuild backend/tradebot/dex/contracts/simulator.json from SellSimulator.sol:
//   cd tools/evm && npm ci && node build-simulator.mjs
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "./compile.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = join(root, "backend", "tradebot", "dex", "contracts");
const names = compile([join(dir, "SellSimulator.sol")], join(dir, "simulator.json"), root);
console.log(`built ${names.join(", ")}`);
