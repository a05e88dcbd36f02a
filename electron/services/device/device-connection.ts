// What provisioning needs from an SSH connection; the ssh/ layer provides it.
export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface DeviceConnection {
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  writeFile(remotePath: string, data: Buffer | string, mode?: number): Promise<void>;
  close(): void;
}
