export class LruCache {
  #map = new Map();
  #max;
  #ttlMs;
  #now;

  constructor({ max, ttlMs, now = Date.now }) {
    if (!(max >= 1)) throw new RangeError('max must be at least 1');
    this.#max = max;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  #live(key) {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires !== undefined && this.#now() >= e.expires) {
      this.#map.delete(key);
      return undefined;
    }
    return e;
  }

  get(key) {
    const e = this.#live(key);
    if (!e) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key, value) {
    this.#map.delete(key);
    this.#map.set(key, { value, expires: this.#ttlMs === undefined ? undefined : this.#now() + this.#ttlMs });
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value);
    return this;
  }

  has(key) {
    return this.#live(key) !== undefined;
  }

  delete(key) {
    return this.#map.delete(key);
  }

  get size() {
    for (const k of [...this.#map.keys()]) this.#live(k);
    return this.#map.size;
  }

  keys() {
    for (const k of [...this.#map.keys()]) this.#live(k);
    return [...this.#map.keys()].reverse();
  }
}
