import { KernelMessage, ServiceManager } from '@jupyterlab/services';

/** What a replay printed and returned, as the pane shows it. */
export interface IReplayResult {
  ok: boolean;
  text: string;
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** The text a kernel message adds to the replay's output, if any. */
function outputText(message: KernelMessage.IIOPubMessage): string {
  const content = message.content as Record<string, any>;
  switch (message.header.msg_type) {
    case 'stream':
      return content.text;
    case 'execute_result':
    case 'display_data':
      return `${content.data?.['text/plain'] ?? ''}\n`;
    case 'error':
      return `${content.ename}: ${content.evalue}\n`;
    default:
      return '';
  }
}

/**
 * Replay an execution in the kernel of the notebook that recorded it (`%polynb replay ID`): the REST
 * API only reads journals, while a replay needs the notebook's live payload. The kernel is the one the
 * journal listing names for the notebook's session. A busy or gone kernel
 * becomes a clear line after `timeoutSeconds`, never a pane that waits forever.
 */
export async function replayInKernel(
  services: ServiceManager.IManager,
  journal: { notebook: string; kernel: string | null },
  recordId: string,
  timeoutSeconds = 60
): Promise<IReplayResult> {
  const { notebook } = journal;
  const model = journal.kernel ? await services.kernels.findById(journal.kernel) : undefined;
  if (!model) {
    return { ok: false, text: `${notebook} has no running kernel: open it and run its cells first.` };
  }
  const kernel = services.kernels.connectTo({ model, handleComms: false });
  let text = '';
  let timer = 0;
  try {
    const future = kernel.requestExecute(
      { code: `%polynb replay ${recordId}`, silent: false, store_history: false, allow_stdin: false },
      true
    );
    future.onIOPub = message => {
      text += outputText(message);
    };
    const timedOut = new Promise<'timeout'>(resolve => {
      timer = window.setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
    });
    const reply = await Promise.race([future.done, timedOut]);
    if (reply === 'timeout') {
      return { ok: false, text: `${text}The kernel of ${notebook} did not answer within ${timeoutSeconds} s (is a cell still running?).` };
    }
    return { ok: reply.content.status === 'ok', text: text.replace(ANSI, '').trim() || '(no output)' };
  } finally {
    window.clearTimeout(timer);
    kernel.dispose();
  }
}
