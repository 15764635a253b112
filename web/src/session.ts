// The signed-in session: a bearer token in localStorage, with listeners for sign-in and sign-out.
const KEY = 'samokoder.token';
const listeners = new Set<() => void>();

function read(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

let current = read();

export const session = {
  token: () => current,
  set(token: string) {
    current = token;
    try {
      localStorage.setItem(KEY, token);
    } catch {
      // private mode: the session lives in memory
    }
    listeners.forEach((l) => l());
  },
  clear() {
    current = null;
    try {
      localStorage.removeItem(KEY);
    } catch {
      // ignore
    }
    listeners.forEach((l) => l());
  },
  subscribe(l: () => void) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};
