;; Adam/AdamW's update over float32 arrays, four lanes at a time (WebAssembly SIMD), in float32 as
;; torch.optim computes it. The JavaScript loop it replaces ran ~8 ns an element (float64 division
;; and square root, one element at a time): ~12% of a small GPT's training step.
;; Compiled by scripts/build-wasm.mjs into adam-kernel.ts, which optimizers.ts loads.
;;
;; adam(w, g, m, v, n, ...) updates n elements at byte offsets w, g, m, v of the imported memory:
;;   gᵢ ← s·g + l2·w                    (s: gradient clipping's coefficient, 1 when none, as torch's
;;                                        clip_grad_norm_ scales g first; l2: Adam's L2 penalty, 0 for AdamW)
;;   m  ← β1·m + (1−β1)·gᵢ
;;   v  ← β2·v + (1−β2)·gᵢ·gᵢ
;;   w  ← w·decay − (step·m) / (√v·inv + ε)   (decay = 1 − lr·wd for AdamW, step = lr/(1−β1ᵗ), inv = 1/√(1−β2ᵗ))
(module
  (import "env" "memory" (memory 1))
  (func (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $s f32) (param $b1 f32) (param $b2 f32) (param $c1 f32) (param $c2 f32) (param $l2 f32)
    (param $decay f32) (param $step f32) (param $inv f32) (param $eps f32)
    (local $o i32) (local $end i32)
    (local $S v128) (local $B1 v128) (local $B2 v128) (local $C1 v128) (local $C2 v128) (local $L2 v128)
    (local $DECAY v128) (local $STEP v128) (local $INV v128) (local $EPS v128)
    (local $wv v128) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $ws f32) (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $S (f32x4.splat (local.get $s)))
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $L2 (f32x4.splat (local.get $l2)))
    (local.set $DECAY (f32x4.splat (local.get $decay)))
    (local.set $STEP (f32x4.splat (local.get $step)))
    (local.set $INV (f32x4.splat (local.get $inv)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    ;; Whole groups of four: bytes [0, end).
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $o))))
        (local.set $gv (f32x4.add (f32x4.mul (local.get $S) (v128.load (i32.add (local.get $g) (local.get $o)))) (f32x4.mul (local.get $L2) (local.get $wv))))
        (local.set $mv (f32x4.add (f32x4.mul (local.get $B1) (v128.load (i32.add (local.get $m) (local.get $o)))) (f32x4.mul (local.get $C1) (local.get $gv))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $B2) (v128.load (i32.add (local.get $v) (local.get $o))))
                                  (f32x4.mul (f32x4.mul (local.get $C2) (local.get $gv)) (local.get $gv))))
        (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $w) (local.get $o))
          (f32x4.sub (f32x4.mul (local.get $wv) (local.get $DECAY))
                     (f32x4.div (f32x4.mul (local.get $STEP) (local.get $mv))
                                (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $INV)) (local.get $EPS)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $four)))
    ;; The last n mod 4 elements, one at a time, the same arithmetic.
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $ws (f32.load (i32.add (local.get $w) (local.get $o))))
        (local.set $gs (f32.add (f32.mul (local.get $s) (f32.load (i32.add (local.get $g) (local.get $o)))) (f32.mul (local.get $l2) (local.get $ws))))
        (local.set $ms (f32.add (f32.mul (local.get $b1) (f32.load (i32.add (local.get $m) (local.get $o)))) (f32.mul (local.get $c1) (local.get $gs))))
        (local.set $vs (f32.add (f32.mul (local.get $b2) (f32.load (i32.add (local.get $v) (local.get $o))))
                                (f32.mul (f32.mul (local.get $c2) (local.get $gs)) (local.get $gs))))
        (f32.store (i32.add (local.get $m) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $w) (local.get $o))
          (f32.sub (f32.mul (local.get $ws) (local.get $decay))
                   (f32.div (f32.mul (local.get $step) (local.get $ms))
                            (f32.add (f32.mul (f32.sqrt (local.get $vs)) (local.get $inv)) (local.get $eps)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $one)))))
