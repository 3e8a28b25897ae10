// The model cards' Markdown as DOM nodes: headings, paragraphs, bullet lists, fenced code,
// **bold** and `code`. Text only ever becomes text nodes (a card is a file, not markup).
function inline(text) {
  const out = [];
  const re = /(\*\*[^*]+\*\*|`[^`]+`)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    const el = document.createElement(m[0].startsWith('**') ? 'strong' : 'code');
    el.textContent = m[0].startsWith('**') ? m[0].slice(2, -2) : m[0].slice(1, -1);
    out.push(el);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

export function renderMarkdown(md) {
  const nodes = [];
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  let para = [], list = null;
  const flush = () => {
    if (para.length) { const p = document.createElement('p'); p.append(...inline(para.join(' '))); nodes.push(p); para = []; }
    list = null;
  };
  for (let i = 0; i < lines.length; ++i) {
    const line = lines[i];
    if (line.startsWith('```')) {
      flush();
      const code = [];
      for (++i; i < lines.length && !lines[i].startsWith('```'); ++i) code.push(lines[i]);
      const pre = document.createElement('pre');
      pre.textContent = code.join('\n');
      nodes.push(pre);
    } else if (/^#{1,6} /.test(line)) {
      flush();
      const level = Math.min(6, line.indexOf(' ') + 2);  // the card's # is the page's h3
      const h = document.createElement(`h${Math.min(6, level)}`);
      h.append(...inline(line.replace(/^#+ /, '')));
      nodes.push(h);
    } else if (/^\s*[-*] /.test(line)) {
      if (para.length) flush();
      if (!list) { list = document.createElement('ul'); nodes.push(list); }
      const li = document.createElement('li');
      li.append(...inline(line.replace(/^\s*[-*] /, '')));
      list.append(li);
    } else if (line.trim() === '') {
      flush();
    } else if (list && /^\s+/.test(line)) {
      list.lastChild.append(document.createTextNode(' '), ...inline(line.trim()));
    } else {
      list = null;
      para.push(line.trim());
    }
  }
  flush();
  return nodes;
}
