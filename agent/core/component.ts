/**
 * A component of the running agent. Constructors only assign fields; start() acquires resources
 * (ports, files, connections) and honours the signal; stop() releases them and never throws.
 */
export interface Component {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}
