import { JupyterFrontEnd } from '@jupyterlab/application';

/** The part of a notebook panel the jump needs (typed here to keep @jupyterlab/notebook out of the build). */
interface INotebookLike {
  context: { ready: Promise<void> };
  content: {
    widgets: readonly { model: { id: string } }[];
    activeCellIndex: number;
    scrollToItem(index: number): Promise<void>;
  };
}

/** Open the notebook and make the cell with `cellId` the active, visible one. */
export async function jumpToCell(app: JupyterFrontEnd, path: string, cellId: string | null): Promise<void> {
  const widget = (await app.commands.execute('docmanager:open', { path })) as INotebookLike | undefined;
  if (!widget?.content?.widgets || !cellId) {
    return;
  }
  await widget.context.ready;
  const notebook = widget.content;
  const index = notebook.widgets.findIndex(cell => cell.model.id === cellId);
  if (index >= 0) {
    notebook.activeCellIndex = index;
    void notebook.scrollToItem(index);
  }
}
