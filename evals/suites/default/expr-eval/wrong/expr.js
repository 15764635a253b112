// Wrong on purpose: left to right with no precedence, and no error for unknown names.
export function evaluate(source, variables = {}) {
  const tokens = source.match(/\d*\.?\d+|[A-Za-z_]\w*|[-+*/%^]/g) ?? [];
  const value = (t) => (/^[A-Za-z_]/.test(t) ? Number(variables[t]) : Number(t));
  let acc = value(tokens[0]);
  for (let i = 1; i < tokens.length; i += 2) {
    const b = value(tokens[i + 1]);
    const op = tokens[i];
    acc = op === '+' ? acc + b : op === '-' ? acc - b : op === '*' ? acc * b : op === '/' ? acc / b : op === '%' ? acc % b : acc ** b;
  }
  return acc;
}
