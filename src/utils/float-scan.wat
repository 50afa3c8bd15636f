;; Whole-array passes over float32 values that run at every model load and training step, four lanes at a
;; time (WebAssembly SIMD). JavaScript ran them at ~1 ns a value: a 10.7M-parameter GPT's load spent
;; ~11 ms checking its weights were finite, its training step ~13 ms taking the gradients' norm.
;; Compiled by scripts/build-wasm.mjs into float-scan-kernel.ts, which float-scan.ts loads.
;;
;; finite(p, n): 1 when the n values at byte offset p are all finite, else 0. x·0 is 0 for every finite x
;;   and NaN for NaN and ±infinity, so the lanes' running sums of x·0 stay 0 exactly when all are finite.
;; sumsq(p, n): adds the squares of the n values at p, in float64, to four running sums (globals, so one
;;   array can come in pieces): value i goes to sum i mod 4, the last n mod 4 (an array's tail) to sum 0,
;;   each square and sum rounded as JavaScript's `a += x * x` rounds it. sumsq_begin() zeroes the sums;
;;   sumsq_end() returns ((a + b) + c) + d.
(module
  (import "env" "memory" (memory 1))
  (global $a (mut f64) (f64.const 0))
  (global $b (mut f64) (f64.const 0))
  (global $c (mut f64) (f64.const 0))
  (global $d (mut f64) (f64.const 0))
  (func (export "finite") (param $p i32) (param $n i32) (result i32)
    (local $o i32) (local $end i32) (local $s v128) (local $t v128) (local $zero v128)
    ;; Eight values a turn, in two independent sums.
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $done8
      (loop $eight
        (br_if $done8 (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $o))) (local.get $zero))))
        (local.set $t (f32x4.add (local.get $t) (f32x4.mul (v128.load offset=16 (i32.add (local.get $p) (local.get $o))) (local.get $zero))))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br $eight)))
    (local.set $s (f32x4.add (local.get $s) (local.get $t)))
    ;; The last n mod 8, one at a time into lane 0.
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (v128.load32_zero (i32.add (local.get $p) (local.get $o))) (local.get $zero))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $one)))
    (i32x4.all_true (f32x4.eq (local.get $s) (local.get $zero))))
  (func (export "sumsq_begin")
    (global.set $a (f64.const 0))
    (global.set $b (f64.const 0))
    (global.set $c (f64.const 0))
    (global.set $d (f64.const 0)))
  (func (export "sumsq_end") (result f64)
    (f64.add (f64.add (f64.add (global.get $a) (global.get $b)) (global.get $c)) (global.get $d)))
  (func (export "sumsq") (param $p i32) (param $n i32)
    (local $o i32) (local $end i32) (local $v v128) (local $lo v128) (local $hi v128) (local $ab v128) (local $cd v128) (local $x f64)
    (local.set $ab (f64x2.replace_lane 1 (f64x2.splat (global.get $a)) (global.get $b)))
    (local.set $cd (f64x2.replace_lane 1 (f64x2.splat (global.get $c)) (global.get $d)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $o))))
        ;; Values 0, 1 to sums a, b; values 2, 3 (moved to the low half) to c, d.
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $ab (f64x2.add (local.get $ab) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $cd (f64x2.add (local.get $cd) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $four)))
    (global.set $a (f64x2.extract_lane 0 (local.get $ab)))
    (global.set $b (f64x2.extract_lane 1 (local.get $ab)))
    (global.set $c (f64x2.extract_lane 0 (local.get $cd)))
    (global.set $d (f64x2.extract_lane 1 (local.get $cd)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $o)))))
        (global.set $a (f64.add (global.get $a) (f64.mul (local.get $x) (local.get $x))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $one)))))
