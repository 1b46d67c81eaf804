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

export interface IPayload {
  platform: string;
  name: string;
  version: number;
  cell_id: string | null;
  address: string | null;
  executions: number;
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

/** GET a polynb API path with the server's settings (token, XSRF). */
async function request<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ''));
  const url = URLExt.join(settings.baseUrl, 'polynb', 'api', path) + (params.toString() ? `?${params}` : '');
  const response = await ServerConnection.makeRequest(url, {}, settings);
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
