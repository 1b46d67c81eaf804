import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** One execution as the list shows it. */
export interface IExecutionSummary {
  id: string;
  seq: number;
  platform: string;
  payload: string;
  version: number | null;
  status: string;
  error: string | null;
  received_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration: number | null;
}

/** One execution in full. */
export interface IExecution extends IExecutionSummary {
  notebook: string;
  input: unknown;
  output: unknown;
  traceback: string | null;
  stdout: string;
  stderr: string;
  logs: { level: string; logger: string; message: string }[];
  meta: Record<string, unknown>;
}

export interface IPlatform {
  platform: string;
  state: string;
  address: string | null;
  detail: string | null;
}

/** A payload's input and output shape (polynb/signature.py's `as_json`): one summary line per operation. */
export interface ISignature {
  source: string;
  operations: Record<string, { input: unknown; output: unknown; summary: string }>;
}

export interface IPayload {
  platform: string;
  name: string;
  version: number;
  cell_id: string | null;
  address: string | null;
  executions: number;
  signature: ISignature | null;
}

export interface IJournal {
  notebook: string;
  kernel: string | null;
  /** why this notebook's journal could not be read (the others are listed all the same) */
  error: string | null;
  platforms: IPlatform[];
  payloads: IPayload[];
  executions: IExecutionSummary[];
}

export interface IFilters {
  /** '' for this notebook's executions, 'folder' for every notebook writing the same journal */
  scope: string;
  platform: string;
  payload: string;
  status: string;
}

/** What a cancel request got: whether the kernel was asked to stop the execution, and the line saying so. */
export interface ICancelResult {
  ok: boolean;
  text: string;
}

/** Call a polynb API path with the server's settings (token; the XSRF header on a POST). */
function send(path: string, query: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  const settings = ServerConnection.makeSettings();
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ''));
  const url = URLExt.join(settings.baseUrl, 'polynb', 'api', path) + (params.toString() ? `?${params}` : '');
  return ServerConnection.makeRequest(url, init, settings);
}

/** GET a polynb API path's JSON; an error status rejects. */
async function request<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const response = await send(path, query);
  if (!response.ok) {
    throw new Error(`polynb API ${path}: ${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

/** Every running notebook's journal: the newest `limit` executions that pass the filters. */
export async function fetchJournals(filters: IFilters, limit: number): Promise<IJournal[]> {
  const body = await request<{ journals: IJournal[] }>('journals', { ...filters, limit: String(limit) });
  return body.journals;
}

export function fetchExecution(id: string): Promise<IExecution> {
  return request<IExecution>(`executions/${id}`);
}

/**
 * Ask the kernel that runs an open execution to cancel it: the server extension writes the request into the
 * record's journal, which that kernel watches. A refusal (the execution has ended) is a result, not an error.
 */
export async function cancelExecution(id: string): Promise<ICancelResult> {
  const response = await send(`executions/${id}/cancel`, {}, { method: 'POST' });
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    return { ok: true, text: `Cancel requested for #${body.seq} ${body.platform} · ${body.payload}.` };
  }
  return { ok: false, text: body.message ?? `${response.status} ${response.statusText}` };
}
