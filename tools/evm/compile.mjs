// Compile Solidity sources with the pinned solc-js (WASM: no native download) into the JSON
// artifacts the Python code reads: ABI, creation and runtime bytecode, and the SHA-256 of the
// source so a test can tell a stale artifact from its source.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, relative } from "node:path";
import solc from "solc";

// paris: no PUSH0, so the code also runs on chains that have not taken Shanghai.
const EVM_VERSION = "paris";

export function compile(sourcePaths, outPath, repoRoot) {
  const sources = {};
  for (const path of sourcePaths) {
    sources[basename(path)] = { content: readFileSync(path, "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  }
  const contracts = {};
  for (const [file, byName] of Object.entries(output.contracts)) {
    for (const [name, contract] of Object.entries(byName)) {
      if (contract.evm.bytecode.object.length === 0) continue; // interfaces
      contracts[name] = {
        source: file,
        abi: contract.abi,
        bytecode: "0x" + contract.evm.bytecode.object,
        deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
      };
    }
  }
  const artifact = {
    compiler: `solc ${solc.version()}`,
    evmVersion: EVM_VERSION,
    sources: Object.fromEntries(
      sourcePaths.map((path) => [
        relative(repoRoot, path),
        createHash("sha256").update(readFileSync(path)).digest("hex"),
      ]),
    ),
    contracts,
  };
  writeFileSync(outPath, JSON.stringify(artifact, null, 1) + "\n");
  return Object.keys(contracts);
}
