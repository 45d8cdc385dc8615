/**
 * Audio devices through alsa-utils (`arecord -l`, `aplay -l`). A hub listens for voice, so a
 * missing capture device matters there; a member (speaker, TV) needs a playback device.
 */
import { COMMAND_TIMEOUT_MS, firstLine, ok, warn, type Check } from "./check.js";
import type { System } from "./system.js";

export interface SoundDevice {
  readonly card: number;
  readonly device: number;
  readonly name: string;
}

type Listing = { readonly devices: readonly SoundDevice[]; readonly note: string } | { readonly missing: true } | { readonly problem: string };

/** `card 1: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]` → one device. */
const DEVICE_LINE = /^card (\d+): [^[\n]*\[([^\]\n]*)\], device (\d+):/gm;
const INSTALL_FIX = "sudo apt-get install alsa-utils";

export function parseDeviceList(stdout: string): SoundDevice[] {
  return [...stdout.matchAll(DEVICE_LINE)].map((m) => ({ card: Number(m[1]), device: Number(m[3]), name: m[2] ?? "" }));
}

async function list(system: System, tool: "arecord" | "aplay"): Promise<Listing> {
  const r = await system.run(tool, ["-l"], COMMAND_TIMEOUT_MS);
  switch (r.kind) {
    case "not-found":
      return { missing: true };
    case "timeout":
      return { problem: `\`${tool} -l\` did not answer within ${COMMAND_TIMEOUT_MS / 1000} s` };
    case "error":
      return { problem: `\`${tool} -l\` failed: ${r.message}` };
    case "exited": {
      const devices = parseDeviceList(r.stdout);
      // "no soundcards found..." comes on stderr, with status 0 or 1 depending on the version.
      if (r.code !== 0 && devices.length === 0 && !/no soundcards/i.test(r.stderr)) {
        return { problem: `\`${tool} -l\` exited with ${r.code}: ${firstLine(r.stderr)}` };
      }
      return { devices, note: devices.length === 0 ? "none" : describe(devices) };
    }
  }
}

function describe(devices: readonly SoundDevice[]): string {
  return devices.map((d) => `${d.name} (hw:${d.card},${d.device})`).join(", ");
}

export const audioCheck: Check = {
  id: "audio",
  title: "capture and playback devices (alsa-utils)",
  run: async ({ config, system }) => {
    const [capture, playback] = await Promise.all([list(system, "arecord"), list(system, "aplay")]);
    if ("missing" in capture || "missing" in playback) {
      return warn("alsa-utils is not installed: cannot list microphones and speakers", INSTALL_FIX);
    }
    if ("problem" in capture) return warn(capture.problem, "check the sound setup: `arecord -l`; is the user in the audio group?");
    if ("problem" in playback) return warn(playback.problem, "check the sound setup: `aplay -l`; is the user in the audio group?");
    const summary = `capture: ${capture.note}; playback: ${playback.note}`;
    if (config.role === "hub" && capture.devices.length === 0) {
      return warn(`no capture device: the hub cannot hear voice commands (playback: ${playback.note})`, "plug a USB microphone; check `arecord -l`");
    }
    if (config.role === "member" && playback.devices.length === 0) {
      return warn(`no playback device: a speaker or TV member cannot play sound (capture: ${capture.note})`, "connect HDMI audio or a USB / 3.5 mm speaker; check `aplay -l`");
    }
    return ok(summary);
  },
};
