// For `npm start`: notices the saves of wrangler.toml that `wrangler dev` misses. wrangler (4.156) re-arms its
// config watcher only after the file parsed, and listens for in-place changes only, so a save after a TOML error,
// or a save by rename (vim, JetBrains' safe write, `sed -i`), can leave the old config running
// (docs/troubleshooting.md, "The old config keeps answering after a fix").
import type { Stats } from "node:fs";
import { unwatchFile, watchFile } from "node:fs";
import { experimental_readRawConfig } from "wrangler";

/** How often the file's metadata is read: by path, so a file replaced by rename is seen too. */
const POLL_MS = 300;

export interface ConfigWatch {
	close(): void;
}

/**
 * Calls `restart(why)` when wrangler dev may not see the file's new content: it parses again after failing to,
 * or it was replaced by a new file (a new inode). Says in one line when it stops parsing.
 */
export function watchConfig(path: string, restart: (why: string) => void): ConfigWatch {
	let broken = false;
	const changed = (now: Stats, before: Stats): void => {
		if (now.mtimeMs === before.mtimeMs && now.ino === before.ino) return;
		if (now.ino === 0) return; // removed for a moment, as some editors do before the new file lands
		try {
			experimental_readRawConfig({ config: path });
		} catch (error) {
			const e = error as { text?: string; message: string; location?: { line: number; column: number } };
			const at = e.location ? `${path}:${e.location.line}:${e.location.column + 1}` : path;
			console.error(`npm start: ${at}: ${e.text ?? e.message}; the gate keeps its last config until the file parses`);
			broken = true;
			return;
		}
		if (broken) restart(`${path} parses again`);
		else if (now.ino !== before.ino) restart(`${path} was replaced (saved by rename)`);
		broken = false;
	};
	watchFile(path, { interval: POLL_MS }, changed);
	return { close: () => unwatchFile(path, changed) };
}
