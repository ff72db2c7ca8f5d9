;; Area-average downscale of an 8-bit RGB raster (WebAssembly SIMD). Source of area-shrink.wasm, built with the
;; index kernels (`npm run build:kernels`); area-shrink.ts lays out the memory and calls it.
;;
;; Every output pixel is the exact mean of the source area it covers. Positions are integers: along y, a source
;; row spans dstH units and an output row srcH units, so the weights of the rows under one output row are whole
;; numbers summing to srcH; the same along x. No rounding happens before the final division.
(module
  (memory (export "memory") 1)

  ;; Output rows [y0, y1) only (a band): src holds source rows from row0 on, as many as those output rows cover,
  ;; readable 16 bytes past their end; acc: (srcW × 3 + 16) i32, 16-byte aligned; dst: dstW × (y1 − y0) × 3 bytes.
  ;; Requires 1 ≤ dstW ≤ srcW ≤ 4096 and 1 ≤ dstH ≤ srcH ≤ 4096.
  (func (export "shrink")
    (param $src i32) (param $srcW i32) (param $srcH i32) (param $acc i32)
    (param $dst i32) (param $dstW i32) (param $dstH i32) (param $row0 i32) (param $y0 i32) (param $y1 i32)
    (local $rowBytes i32) (local $y i32) (local $lo i32) (local $hi i32) (local $r i32) (local $w i32)
    (local $row i32) (local $i i32) (local $a i32) (local $bytes v128) (local $half v128) (local $wv v128)
    (local $x i32) (local $s i32) (local $p i32) (local $wx i64) (local $q i32) (local $rem i32) (local $qh i32)
    (local $remh i32) (local $last i32) (local $end i32) (local $lastW i64) (local $qW i32) (local $remW i32)
    (local $dstW64 i64) (local $srcW64 i64)
    (local $sum0 i64) (local $sum1 i64) (local $sum2 i64) (local $area i64) (local $round i64) (local $perArea f64) (local $out i32)
    (local.set $rowBytes (i32.mul (local.get $srcW) (i32.const 3)))
    (local.set $area (i64.mul (i64.extend_i32_u (local.get $srcW)) (i64.extend_i32_u (local.get $srcH))))
    (local.set $round (i64.shr_u (local.get $area) (i64.const 1)))
    ;; floor(n / area) as trunc(n · (1/area) + 1e-9): n < 2^33 and area ≤ 4096², so the product is within
    ;; 1e-13 of the quotient, and a quotient that is not an integer lies at least 1/area (6e-8) below the next.
    (local.set $perArea (f64.div (f64.const 1) (f64.convert_i64_u (local.get $area))))
    (local.set $qW (i32.div_u (local.get $srcW) (local.get $dstW)))
    (local.set $remW (i32.rem_u (local.get $srcW) (local.get $dstW)))
    (local.set $dstW64 (i64.extend_i32_u (local.get $dstW)))
    (local.set $srcW64 (i64.extend_i32_u (local.get $srcW)))
    (local.set $out (local.get $dst))
    (local.set $y (local.get $y0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $y1)))
        ;; acc = 0
        (local.set $i (i32.const 0))
        (block $zeroDone
          (loop $zero
            (br_if $zeroDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 2))) (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $zero)))
        ;; Vertical pass: acc[i] += w · src[r][i] over the source rows r under output row y.
        (local.set $lo (i32.mul (local.get $y) (local.get $srcH)))
        (local.set $hi (i32.add (local.get $lo) (local.get $srcH)))
        (local.set $r (i32.div_u (local.get $lo) (local.get $dstH)))
        (block $srcRowsDone
          (loop $srcRows
            (br_if $srcRowsDone (i32.ge_u (i32.mul (local.get $r) (local.get $dstH)) (local.get $hi)))
            (local.set $w
              (i32.sub
                (select (local.get $hi) (i32.mul (i32.add (local.get $r) (i32.const 1)) (local.get $dstH))
                  (i32.lt_u (local.get $hi) (i32.mul (i32.add (local.get $r) (i32.const 1)) (local.get $dstH))))
                (select (local.get $lo) (i32.mul (local.get $r) (local.get $dstH))
                  (i32.gt_u (local.get $lo) (i32.mul (local.get $r) (local.get $dstH))))))
            (local.set $wv (i16x8.splat (local.get $w)))
            (local.set $row (i32.add (local.get $src) (i32.mul (i32.sub (local.get $r) (local.get $row0)) (local.get $rowBytes))))
            (local.set $i (i32.const 0))
            (block $bytesDone
              (loop $bytes16
                (br_if $bytesDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
                (local.set $bytes (v128.load (i32.add (local.get $row) (local.get $i))))
                (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 2))))
                (local.set $half (i16x8.extend_low_i8x16_u (local.get $bytes)))
                (v128.store (local.get $a)
                  (i32x4.add (v128.load (local.get $a)) (i32x4.extmul_low_i16x8_u (local.get $half) (local.get $wv))))
                (v128.store offset=16 (local.get $a)
                  (i32x4.add (v128.load offset=16 (local.get $a)) (i32x4.extmul_high_i16x8_u (local.get $half) (local.get $wv))))
                (local.set $half (i16x8.extend_high_i8x16_u (local.get $bytes)))
                (v128.store offset=32 (local.get $a)
                  (i32x4.add (v128.load offset=32 (local.get $a)) (i32x4.extmul_low_i16x8_u (local.get $half) (local.get $wv))))
                (v128.store offset=48 (local.get $a)
                  (i32x4.add (v128.load offset=48 (local.get $a)) (i32x4.extmul_high_i16x8_u (local.get $half) (local.get $wv))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $bytes16)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $srcRows)))
        ;; Horizontal pass: output pixel x covers [x·srcW, (x+1)·srcW) in units of 1/dstW source column, i.e. from
        ;; column q at offset r to column qh at offset rh, both tracked without division. Its first column weighs
        ;; dstW − r, the columns between dstW each, the last rh (or dstW when the pixel ends on a column's edge).
        (local.set $q (i32.const 0))
        (local.set $rem (i32.const 0))
        (local.set $x (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $x) (local.get $dstW)))
            (local.set $qh (i32.add (local.get $q) (local.get $qW)))
            (local.set $remh (i32.add (local.get $rem) (local.get $remW)))
            (if (i32.ge_u (local.get $remh) (local.get $dstW))
              (then
                (local.set $remh (i32.sub (local.get $remh) (local.get $dstW)))
                (local.set $qh (i32.add (local.get $qh) (i32.const 1)))))
            (local.set $last (local.get $qh))
            (local.set $lastW (i64.extend_i32_u (local.get $remh)))
            (if (i32.eqz (local.get $remh))
              (then
                (local.set $last (i32.sub (local.get $qh) (i32.const 1)))
                (local.set $lastW (local.get $dstW64))))
            (local.set $p (i32.add (local.get $acc) (i32.mul (local.get $q) (i32.const 12))))
            (if (i32.eq (local.get $last) (local.get $q))
              (then
                (local.set $sum0 (i64.mul (local.get $srcW64) (i64.load32_u (local.get $p))))
                (local.set $sum1 (i64.mul (local.get $srcW64) (i64.load32_u offset=4 (local.get $p))))
                (local.set $sum2 (i64.mul (local.get $srcW64) (i64.load32_u offset=8 (local.get $p)))))
              (else
                ;; the columns strictly between the first and the last, at full weight
                (local.set $sum0 (i64.const 0))
                (local.set $sum1 (i64.const 0))
                (local.set $sum2 (i64.const 0))
                (local.set $s (i32.add (local.get $p) (i32.const 12)))
                (local.set $end (i32.add (local.get $acc) (i32.mul (local.get $last) (i32.const 12))))
                (block $midDone
                  (loop $mid
                    (br_if $midDone (i32.ge_u (local.get $s) (local.get $end)))
                    (local.set $sum0 (i64.add (local.get $sum0) (i64.load32_u (local.get $s))))
                    (local.set $sum1 (i64.add (local.get $sum1) (i64.load32_u offset=4 (local.get $s))))
                    (local.set $sum2 (i64.add (local.get $sum2) (i64.load32_u offset=8 (local.get $s))))
                    (local.set $s (i32.add (local.get $s) (i32.const 12)))
                    (br $mid)))
                (local.set $wx (i64.extend_i32_u (i32.sub (local.get $dstW) (local.get $rem))))
                (local.set $sum0 (i64.add (i64.add (i64.mul (local.get $sum0) (local.get $dstW64))
                  (i64.mul (local.get $wx) (i64.load32_u (local.get $p))))
                  (i64.mul (local.get $lastW) (i64.load32_u (local.get $end)))))
                (local.set $sum1 (i64.add (i64.add (i64.mul (local.get $sum1) (local.get $dstW64))
                  (i64.mul (local.get $wx) (i64.load32_u offset=4 (local.get $p))))
                  (i64.mul (local.get $lastW) (i64.load32_u offset=4 (local.get $end)))))
                (local.set $sum2 (i64.add (i64.add (i64.mul (local.get $sum2) (local.get $dstW64))
                  (i64.mul (local.get $wx) (i64.load32_u offset=8 (local.get $p))))
                  (i64.mul (local.get $lastW) (i64.load32_u offset=8 (local.get $end)))))))
            (i32.store8 (local.get $out)
              (i32.trunc_f64_s (f64.add (f64.mul (f64.convert_i64_s (i64.add (local.get $sum0) (local.get $round))) (local.get $perArea)) (f64.const 1e-9))))
            (i32.store8 offset=1 (local.get $out)
              (i32.trunc_f64_s (f64.add (f64.mul (f64.convert_i64_s (i64.add (local.get $sum1) (local.get $round))) (local.get $perArea)) (f64.const 1e-9))))
            (i32.store8 offset=2 (local.get $out)
              (i32.trunc_f64_s (f64.add (f64.mul (f64.convert_i64_s (i64.add (local.get $sum2) (local.get $round))) (local.get $perArea)) (f64.const 1e-9))))
            (local.set $out (i32.add (local.get $out) (i32.const 3)))
            (local.set $q (local.get $qh))
            (local.set $rem (local.get $remh))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $cols)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows)))))
