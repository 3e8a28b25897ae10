// The numbers of a matrix as an accessible table (a caption, row and column headers), for
// screen readers and for reading exact values. At most 64 x 64 cells; the caption says so.
const LIMIT = 64;

export function renderTable(container, { weights, rows, cols, rowLabels, colLabels, caption }) {
  const table = document.createElement('table');
  table.className = 'weights-table';
  const cap = document.createElement('caption');
  const R = Math.min(rows, LIMIT), C = Math.min(cols, LIMIT);
  cap.textContent = `${caption ?? 'Attention weights'}: rows are queries, columns keys`
    + (R < rows || C < cols ? ` (the first ${R} × ${C} of ${rows} × ${cols}; export JSON for all)` : '');
  table.append(cap);
  const head = document.createElement('tr');
  head.append(document.createElement('td'));
  for (let j = 0; j < C; ++j) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = colLabels[j];
    head.append(th);
  }
  table.append(head);
  for (let i = 0; i < R; ++i) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = rowLabels[i];
    tr.append(th);
    for (let j = 0; j < C; ++j) {
      const td = document.createElement('td');
      td.textContent = weights[i * cols + j].toFixed(4);
      tr.append(td);
    }
    table.append(tr);
  }
  container.append(table);
  return table;
}
