/** Accuracy, per-class precision/recall/F1, macro F1 and the confusion matrix (rows: true label, columns: predicted). */
export interface ClassificationMetrics {
  accuracy: number;
  /** F1 by class index. */
  f1: number[];
  precision: number[];
  recall: number[];
  macroF1: number;
  confusion: number[][];
  count: number;
}

export function classificationMetrics(truth: readonly number[], predicted: readonly number[], numLabels: number): ClassificationMetrics {
  const confusion = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  truth.forEach((t, i) => confusion[t]![predicted[i]!]!++);
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  for (let k = 0; k < numLabels; k++) {
    const tp = confusion[k]![k]!;
    const predictedK = confusion.reduce((s, row) => s + row[k]!, 0);
    const actualK = confusion[k]!.reduce((s, v) => s + v, 0);
    const p = predictedK ? tp / predictedK : 0;
    const r = actualK ? tp / actualK : 0;
    precision.push(p);
    recall.push(r);
    f1.push(p + r ? (2 * p * r) / (p + r) : 0);
  }
  const correct = confusion.reduce((s, row, k) => s + row[k]!, 0);
  return { accuracy: truth.length ? correct / truth.length : 0, f1, precision, recall, macroF1: f1.reduce((a, b) => a + b, 0) / numLabels, confusion, count: truth.length };
}
