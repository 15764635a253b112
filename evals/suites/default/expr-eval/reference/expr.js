const FUNCTIONS = {
  min: (...a) => Math.min(...a),
  max: (...a) => Math.max(...a),
  abs: (x) => Math.abs(x),
  sqrt: (x) => Math.sqrt(x),
};

function tokenize(src) {
  const tokens = [];
  const re = /\s*(?:(\d+\.?\d*|\.\d+)|([A-Za-z_]\w*)|(\S))/y;
  let m;
  while (re.lastIndex < src.length && (m = re.exec(src))) {
    const pos = m.index + m[0].length - (m[1] ?? m[2] ?? m[3] ?? '').length;
    if (m[1]) tokens.push({ type: 'num', value: Number(m[1]), pos });
    else if (m[2]) tokens.push({ type: 'id', value: m[2], pos });
    else if (m[3] && '+-*/%^(),'.includes(m[3])) tokens.push({ type: m[3], pos });
    else if (m[3]) throw new SyntaxError(`unexpected "${m[3]}" at position ${pos}`);
  }
  tokens.push({ type: 'end', pos: src.length });
  return tokens;
}

export function evaluate(source, variables = {}) {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const expect = (type) => {
    const t = tokens[i];
    if (t.type !== type) throw new SyntaxError(`expected "${type}" at position ${t.pos}`);
    i++;
    return t;
  };
  const binary = (next, ops, apply) => () => {
    let left = next();
    while (ops.includes(peek().type)) {
      const op = tokens[i++].type;
      left = apply(op, left, next());
    }
    return left;
  };
  const primary = () => {
    const t = tokens[i++];
    if (t.type === 'num') return t.value;
    if (t.type === '(') {
      const v = expression();
      expect(')');
      return v;
    }
    if (t.type === 'id') {
      if (peek().type === '(') {
        i++;
        const args = [];
        if (peek().type !== ')') {
          args.push(expression());
          while (peek().type === ',') {
            i++;
            args.push(expression());
          }
        }
        expect(')');
        if (!Object.hasOwn(FUNCTIONS, t.value)) throw new ReferenceError(`unknown function ${t.value}`);
        return FUNCTIONS[t.value](...args);
      }
      if (!Object.hasOwn(variables, t.value)) throw new ReferenceError(`unknown variable ${t.value}`);
      return variables[t.value];
    }
    throw new SyntaxError(`unexpected ${t.type === 'end' ? 'end of input' : `"${t.type}"`} at position ${t.pos}`);
  };
  const power = () => {
    const base = primary();
    if (peek().type !== '^') return base;
    i++;
    return base ** unary();
  };
  const unary = () => {
    if (peek().type === '-') {
      i++;
      return -unary();
    }
    if (peek().type === '+') {
      i++;
      return unary();
    }
    return power();
  };
  const term = binary(unary, ['*', '/', '%'], (op, a, b) => {
    if ((op === '/' || op === '%') && b === 0) throw new RangeError('division by zero');
    return op === '*' ? a * b : op === '/' ? a / b : a % b;
  });
  const expression = binary(term, ['+', '-'], (op, a, b) => (op === '+' ? a + b : a - b));
  const value = expression();
  expect('end');
  return value;
}
