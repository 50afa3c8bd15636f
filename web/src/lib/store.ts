/** The "Train in your browser" run kept in IndexedDB, so a reload resumes it. */
import type { TrainSnapshot } from './step-trainer.js';

const DB = 'inkwell';
const STORE = 'runs';
/** One run per origin: the page trains one model at a time. */
const KEY = 'train-page';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
  });
}

async function request<T>(mode: IDBTransactionMode, act: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result as T);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
  } finally {
    db.close();
  }
}

export const saveRun = (s: TrainSnapshot): Promise<void> => request('readwrite', (st) => st.put(s, KEY));
export const loadRun = (): Promise<TrainSnapshot | undefined> => request('readonly', (st) => st.get(KEY));
export const forgetRun = (): Promise<void> => request('readwrite', (st) => st.delete(KEY));
