;; Weight-only quantization's codes and scales (see quantize.ts for the layouts), four columns at a time
;; (WebAssembly SIMD). JavaScript took ~10 ns a weight for int4, ~5 for int8: ~110 ms of a q4 GPT 6x384's
;; time to its first token, ~50 ms of a q8 one's. Every division and rounding is float64, as JavaScript's
;; Math.floor(x / scale + 0.5), so the codes are the same bits as the plain loops'.
;; Compiled by scripts/build-wasm.mjs into quantize-kernel.ts, which quantize.ts loads.
;;
;; A matrix is float32 [K, N], copied in a run of rows at a time at a row stride of np >= n floats (np a
;; multiple of 4; the padding columns are zeros), rows past K zeros where a whole block is read.
;; absmax(in, rows, np, acc): acc[c] = max(acc[c], |x|) over the rows, for all np columns.
;; int8_rows(in, rows, np, scl, out): out[r*np + c] = floor(x / scl[c] + 0.5) as int8, for all np columns.
;; int4_block(in, np, n, blocks, blk, scl, scales, packed, work): MatMulNBits for one block of 32 rows; `scl`
;;   has room for np floats, `work` for 640 bytes. For each column c < n:
;;   scale = max |x| / 7 over the block (1 when all are 0), stored at scales[c*blocks + blk];
;;   code  = clamp(floor(x / scale + 0.5) + 8, 0, 15);
;;   byte j of the column's 16 at packed[(c*blocks + blk)*16] = code of row 2j | code of row 2j+1 << 4.
(module
  (import "env" "memory" (memory 1))
  (func (export "int4_block")
    (param $in i32) (param $np i32) (param $n i32) (param $blocks i32) (param $blk i32)
    (param $scl i32) (param $scales i32) (param $packed i32) (param $work i32)
    (local $c i32) (local $r i32) (local $stride i32) (local $at i32) (local $x i32)
    (local $s v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local.set $stride (i32.shl (local.get $np) (i32.const 2)))
    (local.set $c (i32.const 0))
    (block $zeroed (loop $zero
      (br_if $zeroed (i32.ge_u (local.get $c) (local.get $stride)))
      (v128.store (i32.add (local.get $scl) (local.get $c)) (v128.const i32x4 0 0 0 0))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $zero)))
    (call $absmax (local.get $in) (i32.const 32) (local.get $np) (local.get $scl))
    ;; Then four columns at a time: their scales, their 32 codes, their 16 bytes each.
    (local.set $c (i32.const 0))
    (block $done (loop $groups
      (br_if $done (i32.ge_u (local.get $c) (local.get $np)))
      (local.set $s (v128.load (i32.add (local.get $scl) (i32.shl (local.get $c) (i32.const 2)))))
      (local.set $s (v128.bitselect (f32x4.div (local.get $s) (f32x4.splat (f32.const 7))) (f32x4.splat (f32.const 1))
                                    (f32x4.gt (local.get $s) (v128.const i32x4 0 0 0 0))))
      (call $scale (local.get $scales) (local.get $c) (local.get $n) (local.get $blocks) (local.get $blk) (local.get $s))
      ;; Codes, one 32-bit lane a column, row r's four at work[16r].
      (local.set $at (i32.add (local.get $in) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $r (i32.const 0))
      (block $coded (loop $codes
        (br_if $coded (i32.ge_u (local.get $r) (i32.const 512)))
        (v128.store (i32.add (local.get $work) (local.get $r))
          (i32x4.min_s (i32x4.max_s (i32x4.add (call $round (v128.load (local.get $at)) (local.get $s)) (i32x4.splat (i32.const 8)))
                                    (i32x4.splat (i32.const 0)))
                       (i32x4.splat (i32.const 15))))
        (local.set $at (i32.add (local.get $at) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (br $codes)))
      ;; Quarter q (rows 8q..8q+7) to work[512 + 16q]: its byte 4i + k is column i's byte 4q + k,
      ;; from rows 8q + 2k (low nibble) and 8q + 2k + 1 (high).
      (local.set $r (i32.const 0))
      (block $quartered (loop $quarters
        (br_if $quartered (i32.ge_u (local.get $r) (i32.const 512)))
        (local.set $x (i32.add (local.get $work) (local.get $r)))
        (v128.store (i32.add (local.get $work) (i32.add (i32.const 512) (i32.shr_u (local.get $r) (i32.const 3))))
          (i8x16.shuffle 0 1 16 17 4 5 20 21 8 9 24 25 12 13 28 29
            (i8x16.shuffle 0 16 0 16 4 20 4 20 8 24 8 24 12 28 12 28
              (v128.or (v128.load (local.get $x)) (i32x4.shl (v128.load offset=16 (local.get $x)) (i32.const 4)))
              (v128.or (v128.load offset=32 (local.get $x)) (i32x4.shl (v128.load offset=48 (local.get $x)) (i32.const 4))))
            (i8x16.shuffle 0 16 0 16 4 20 4 20 8 24 8 24 12 28 12 28
              (v128.or (v128.load offset=64 (local.get $x)) (i32x4.shl (v128.load offset=80 (local.get $x)) (i32.const 4)))
              (v128.or (v128.load offset=96 (local.get $x)) (i32x4.shl (v128.load offset=112 (local.get $x)) (i32.const 4))))))
        (local.set $r (i32.add (local.get $r) (i32.const 128)))
        (br $quarters)))
      ;; A 4x4 transpose of 32-bit lanes: column i's 16 bytes are lane i of the four quarters.
      (local.set $x (i32.add (local.get $work) (i32.const 512)))
      (local.set $q0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $x)) (v128.load offset=16 (local.get $x))))
      (local.set $q1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load offset=32 (local.get $x)) (v128.load offset=48 (local.get $x))))
      (local.set $q2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $x)) (v128.load offset=16 (local.get $x))))
      (local.set $q3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load offset=32 (local.get $x)) (v128.load offset=48 (local.get $x))))
      (call $column (local.get $packed) (local.get $c) (local.get $n) (local.get $blocks) (local.get $blk)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $q0) (local.get $q1)))
      (call $column (local.get $packed) (i32.add (local.get $c) (i32.const 1)) (local.get $n) (local.get $blocks) (local.get $blk)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $q0) (local.get $q1)))
      (call $column (local.get $packed) (i32.add (local.get $c) (i32.const 2)) (local.get $n) (local.get $blocks) (local.get $blk)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $q2) (local.get $q3)))
      (call $column (local.get $packed) (i32.add (local.get $c) (i32.const 3)) (local.get $n) (local.get $blocks) (local.get $blk)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $q2) (local.get $q3)))
      (local.set $c (i32.add (local.get $c) (i32.const 4)))
      (br $groups))))
  ;; Each column's largest magnitude, row after row (a column at a time would stride across the rows).
  (func $absmax (export "absmax") (param $in i32) (param $rows i32) (param $np i32) (param $acc i32)
    (local $c i32) (local $end i32) (local $x i32)
    (local.set $end (i32.add (local.get $in) (i32.mul (local.get $rows) (i32.shl (local.get $np) (i32.const 2)))))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
      (local.set $c (i32.const 0))
      (block $row (loop $cols
        (br_if $row (i32.ge_u (local.get $c) (i32.shl (local.get $np) (i32.const 2))))
        (local.set $x (i32.add (local.get $acc) (local.get $c)))
        (v128.store (local.get $x) (f32x4.max (v128.load (local.get $x)) (f32x4.abs (v128.load (i32.add (local.get $in) (local.get $c))))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cols)))
      (local.set $in (i32.add (local.get $in) (i32.shl (local.get $np) (i32.const 2))))
      (br $rows))))
  ;; floor(x / s + 0.5) of four values, in float64, as four 32-bit integers.
  (func $round (param $x v128) (param $s v128) (result v128)
    (local $lo v128) (local $hi v128)
    (local.set $lo (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $s)))
                                           (f64x2.splat (f64.const 0.5)))))
    (local.set $hi (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
                                                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s))))
                                           (f64x2.splat (f64.const 0.5)))))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (i32x4.trunc_sat_f64x2_s_zero (local.get $lo)) (i32x4.trunc_sat_f64x2_s_zero (local.get $hi))))
  (func (export "int8_rows") (param $in i32) (param $rows i32) (param $np i32) (param $scl i32) (param $out i32)
    (local $c i32) (local $end i32) (local $q v128)
    (local.set $end (i32.add (local.get $in) (i32.mul (local.get $rows) (i32.shl (local.get $np) (i32.const 2)))))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
      (local.set $c (i32.const 0))
      (block $row (loop $cols
        (br_if $row (i32.ge_u (local.get $c) (local.get $np)))
        (local.set $q (call $round (v128.load (i32.add (local.get $in) (i32.shl (local.get $c) (i32.const 2))))
                                   (v128.load (i32.add (local.get $scl) (i32.shl (local.get $c) (i32.const 2))))))
        (local.set $q (i16x8.narrow_i32x4_s (local.get $q) (local.get $q)))
        (v128.store32_lane 0 (i32.add (local.get $out) (local.get $c)) (i8x16.narrow_i16x8_s (local.get $q) (local.get $q)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $cols)))
      (local.set $in (i32.add (local.get $in) (i32.shl (local.get $np) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (local.get $np)))
      (br $rows))))
  ;; Lane i of s to scales[(c + i)*blocks + blk], for the columns c + i < n.
  (func $scale (param $scales i32) (param $c i32) (param $n i32) (param $blocks i32) (param $blk i32) (param $s v128)
    (local $at i32) (local $step i32)
    (local.set $at (i32.add (local.get $scales) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $blocks)) (local.get $blk)) (i32.const 2))))
    (local.set $step (i32.shl (local.get $blocks) (i32.const 2)))
    (if (i32.lt_u (local.get $c) (local.get $n)) (then (f32.store (local.get $at) (f32x4.extract_lane 0 (local.get $s)))))
    (local.set $at (i32.add (local.get $at) (local.get $step)))
    (if (i32.lt_u (i32.add (local.get $c) (i32.const 1)) (local.get $n)) (then (f32.store (local.get $at) (f32x4.extract_lane 1 (local.get $s)))))
    (local.set $at (i32.add (local.get $at) (local.get $step)))
    (if (i32.lt_u (i32.add (local.get $c) (i32.const 2)) (local.get $n)) (then (f32.store (local.get $at) (f32x4.extract_lane 2 (local.get $s)))))
    (local.set $at (i32.add (local.get $at) (local.get $step)))
    (if (i32.lt_u (i32.add (local.get $c) (i32.const 3)) (local.get $n)) (then (f32.store (local.get $at) (f32x4.extract_lane 3 (local.get $s))))))
  ;; Column c's 16 bytes to packed[(c*blocks + blk)*16], when c < n.
  (func $column (param $packed i32) (param $c i32) (param $n i32) (param $blocks i32) (param $blk i32) (param $v v128)
    (if (i32.lt_u (local.get $c) (local.get $n)) (then
      (v128.store (i32.add (local.get $packed) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $blocks)) (local.get $blk)) (i32.const 4))) (local.get $v))))))
