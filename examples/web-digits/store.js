// What the page remembers between visits, in IndexedDB:
//   models       name → { name, bytes (a safetensors file from model.save()), savedAt, corrections }
//   corrections  auto key → { pixels: Float32Array(784), label, model, at }

const DB_NAME = 'neurite-web-digits';
const VERSION = 1;

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

function db() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, VERSION);
    req.onupgradeneeded = () => {
      const d = req.result;
      if (!d.objectStoreNames.contains('models')) d.createObjectStore('models', { keyPath: 'name' });
      if (!d.objectStoreNames.contains('corrections')) d.createObjectStore('corrections', { autoIncrement: true });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => { opening = null; reject(req.error); };
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this page'));
  });
  return opening;
}

/** Run one request in a transaction and resolve when the transaction has committed. */
async function run(storeName, mode, action) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(storeName, mode);
    const req = action(tx.objectStore(storeName));
    tx.oncomplete = () => resolve(req?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** @returns {Promise<{ name: string, bytes: Uint8Array, savedAt: number, corrections: number } | undefined>} */
export const getModel = (name) => run('models', 'readonly', (s) => s.get(name));
export const putModel = (record) => run('models', 'readwrite', (s) => s.put(record));
export const deleteModel = (name) => run('models', 'readwrite', (s) => s.delete(name));

/** @returns {Promise<Array<{ pixels: Float32Array, label: number }>>} oldest first */
export const getCorrections = () => run('corrections', 'readonly', (s) => s.getAll());
export const addCorrection = (record) => run('corrections', 'readwrite', (s) => s.add(record));
/** Forgets the corrections taught to one model (older records without a model were the MLP's). */
export const clearCorrections = (model) => run('corrections', 'readwrite', (s) => {
  const req = s.openCursor();
  req.onsuccess = () => {
    const cursor = req.result;
    if (!cursor) return;
    if ((cursor.value.model ?? 'mnist-mlp') === model) cursor.delete();
    cursor.continue();
  };
  return req;
});
