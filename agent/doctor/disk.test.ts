import { strict as assert } from "node:assert";
import { test } from "node:test";
import { diskCheck, formatBytes } from "./disk.js";
import { EXT4, context, fakeSystem } from "./fake-system.js";
import type { Space } from "./system.js";

const space = (availableBytes: number, totalBytes = 32e9): Promise<Space> => Promise.resolve({ availableBytes, totalBytes, type: EXT4 });

test("formatBytes: MB below a GB, one decimal above", () => {
  assert.equal(formatBytes(49_999_999), "49 MB");
  assert.equal(formatBytes(12_345_000_000), "12.3 GB");
});

test("disk ok / warn / fail by free space, with the figure", async () => {
  const ok = await diskCheck.run(context(fakeSystem({ statfs: () => space(12e9) })));
  assert.deepEqual(ok, { status: "ok", message: "12.0 GB free of 32.0 GB for /var/lib/adaos-edge" });
  const low = await diskCheck.run(context(fakeSystem({ statfs: () => space(300e6) })));
  assert.equal(low.status, "warn");
  assert.match(low.message, /^only 300 MB free of 32\.0 GB for \/var\/lib\/adaos-edge \(500 MB recommended\)$/);
  assert.match(low.fix ?? "", /journalctl --vacuum-size/);
  const full = await diskCheck.run(context(fakeSystem({ statfs: () => space(20e6) })));
  assert.equal(full.status, "fail");
  assert.match(full.message, /^only 20 MB free .* \(need 50 MB\)$/);
});

test("disk: a data dir that does not exist yet is measured on its nearest existing parent", async () => {
  const asked: string[] = [];
  const sys = fakeSystem({
    statfs: (p) => {
      asked.push(p);
      return p === "/var/lib" ? space(5e9) : Promise.reject(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }));
    },
  });
  const f = await diskCheck.run(context(sys));
  assert.equal(f.message, "5.0 GB free of 32.0 GB for /var/lib/adaos-edge");
  assert.deepEqual(asked, ["/var/lib/adaos-edge", "/var/lib"]);
});

test("disk fail: statfs errors other than ENOENT, and filesystems without storage", async () => {
  const denied = await diskCheck.run(context(fakeSystem({ statfs: () => Promise.reject(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" })) })));
  assert.equal(denied.status, "fail");
  assert.match(denied.message, /cannot read free space of \/var\/lib\/adaos-edge: EACCES/);
  const proc = await diskCheck.run(context(fakeSystem({ statfs: () => Promise.resolve({ availableBytes: 0, totalBytes: 0, type: 0x9fa0 }) })));
  assert.equal(proc.status, "fail");
  assert.match(proc.message, /filesystem without storage \(statfs type 0x9fa0\)/);
});
