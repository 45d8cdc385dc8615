/**
 * The scenario routes of a running agent (api/routes/scenario.ts), typed for the `scenario`
 * commands on top of the shared ApiClient: same address, token and error handling.
 */
import type { RunRequest, RunStarted, RunState, RunStatus, ScenarioSummary, ScheduleView } from "../scenarios/scenario-port.js";
import type { ScheduleInput } from "../scenarios/schedule.js";
import { ApiClient, type ApiFlagValues } from "./api-client.js";
import type { CliIo } from "./command.js";

/** What the CLI may ask to run: the runtime makes the run and correlation ids. */
export type RunBody = Omit<RunRequest, "run_id" | "correlation_id">;

export interface CancelAnswer {
  readonly run_id: string;
  readonly state: RunState;
  readonly cancelled: boolean;
}

export class ScenarioClient {
  constructor(private readonly api: ApiClient) {}

  static fromFlags(flags: ApiFlagValues, io: CliIo): ScenarioClient {
    return new ScenarioClient(ApiClient.fromFlags(flags, io));
  }

  async run(body: RunBody): Promise<RunStarted> {
    return (await this.api.json("POST", "/api/scenario/run", body)) as RunStarted;
  }

  async status(runId: string): Promise<RunStatus> {
    return (await this.api.json("GET", `/api/scenario/status?${new URLSearchParams({ run_id: runId }).toString()}`)) as RunStatus;
  }

  async cancel(runId: string): Promise<CancelAnswer> {
    return (await this.api.json("POST", "/api/scenario/cancel", { run_id: runId })) as CancelAnswer;
  }

  async runs(query: { readonly scenario_id?: string | undefined; readonly limit?: number | undefined }): Promise<readonly RunStatus[]> {
    const q = new URLSearchParams();
    if (query.scenario_id !== undefined) q.set("scenario_id", query.scenario_id);
    if (query.limit !== undefined) q.set("limit", String(query.limit));
    const text = q.toString();
    return ((await this.api.json("GET", `/api/scenario/runs${text === "" ? "" : "?" + text}`)) as { runs: RunStatus[] }).runs;
  }

  async replay(runId: string, dryRun: boolean | undefined): Promise<RunStarted & { readonly replay_of: string }> {
    const body = { run_id: runId, ...(dryRun === undefined ? {} : { dry_run: dryRun }) };
    return (await this.api.json("POST", "/api/scenario/replay", body)) as RunStarted & { replay_of: string };
  }

  async scenarios(): Promise<readonly ScenarioSummary[]> {
    return ((await this.api.json("GET", "/api/scenarios")) as { scenarios: ScenarioSummary[] }).scenarios;
  }

  async schedules(): Promise<readonly ScheduleView[]> {
    return ((await this.api.json("GET", "/api/scenario/schedules")) as { schedules: ScheduleView[] }).schedules;
  }

  async createSchedule(input: ScheduleInput): Promise<ScheduleView> {
    return (await this.api.json("POST", "/api/scenario/schedules", input)) as ScheduleView;
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.api.json("DELETE", `/api/scenario/schedules/${encodeURIComponent(id)}`);
  }
}
