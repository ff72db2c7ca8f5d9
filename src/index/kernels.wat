;; Scan kernels of the quantised index (WebAssembly SIMD). Source of kernels.wasm: `npm run build:kernels`.
;; Every pointer is a byte offset into the one linear memory the index lays out (see vector-index.ts).
(module
  ;; The memory is the index's, shared with the scan threads (scan-threads.ts) that run "hamming" and
  ;; "cosines" on it.
  (import "env" "memory" (memory 1 65536 shared))

  ;; Hamming distance of the 512-bit query code to every member face's code; a face in none of the searched
  ;; groups gets 0xFFFF. Group bitsets lie in planes, one per 32-bit word: $planes lists their offsets (u32,
  ;; $words of them) and the first face's word is $at bytes into each. Adds to hist[0..512] (u32) the number
  ;; of members at each distance: a thread scans the index's segments one call each into one histogram,
  ;; which its caller zeroes first.
  (func (export "hamming")
    (param $query i32) (param $codes i32) (param $planes i32) (param $at i32) (param $words i32) (param $mask i32)
    (param $count i32) (param $out i32) (param $hist i32)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local $slot i32) (local $w i32) (local $hit i32) (local $m i32) (local $c i32) (local $sum v128)
    (local $d i32) (local $h i32)
    (local.set $q0 (v128.load (local.get $query)))
    (local.set $q1 (v128.load offset=16 (local.get $query)))
    (local.set $q2 (v128.load offset=32 (local.get $query)))
    (local.set $q3 (v128.load offset=48 (local.get $query)))
    (local.set $m (local.get $at))
    (local.set $c (local.get $codes))
    (block $done
      (loop $faces
        (br_if $done (i32.ge_u (local.get $slot) (local.get $count)))
        ;; membership: any searched group bit set?
        (local.set $hit (i32.const 0))
        (local.set $w (i32.const 0))
        (block $checked
          (loop $groups
            (br_if $checked (i32.ge_u (local.get $w) (local.get $words)))
            (local.set $hit (i32.and
              (i32.load (i32.add (i32.load (i32.add (local.get $planes) (i32.shl (local.get $w) (i32.const 2)))) (local.get $m)))
              (i32.load (i32.add (local.get $mask) (i32.shl (local.get $w) (i32.const 2))))))
            (br_if $checked (local.get $hit))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br $groups)))
        (if (local.get $hit)
          (then
            ;; four 16-byte popcounts, summed per byte (at most 32 per lane), then across lanes
            (local.set $sum (i8x16.add
              (i8x16.add
                (i8x16.popcnt (v128.xor (local.get $q0) (v128.load (local.get $c))))
                (i8x16.popcnt (v128.xor (local.get $q1) (v128.load offset=16 (local.get $c)))))
              (i8x16.add
                (i8x16.popcnt (v128.xor (local.get $q2) (v128.load offset=32 (local.get $c))))
                (i8x16.popcnt (v128.xor (local.get $q3) (v128.load offset=48 (local.get $c)))))))
            (local.set $sum (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $sum))))
            (local.set $d (i32.add
              (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
              (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))))
            (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $slot) (i32.const 1))) (local.get $d))
            (local.set $h (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 2))))
            (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1))))
          (else
            (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $slot) (i32.const 1))) (i32.const 0xFFFF))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $c (i32.add (local.get $c) (i32.const 64)))
        (br $faces))))

  ;; As "hamming" (same membership test, same outputs), but the distance is the int8 cosine of the query
  ;; (int8 at $query, $dim bytes, a multiple of 16; scale $queryScale) with each member's int8 vector ($dim bytes
  ;; a slot from $vectors; f32 scale a slot from $scales), bucketed by 1/256:
  ;; clamp(nearest((1 - dot · $queryScale · scale) · 256), 0, 512), smaller = closer. Reads 8× the bytes of a
  ;; sign code per member, but ranks them as pass 2 does: for a filter of some ten thousand faces it is cheap,
  ;; and a shortlist taken from it misses no neighbour a Hamming distance would have ranked too far.
  (func (export "cosines")
    (param $query i32) (param $vectors i32) (param $dim i32) (param $scales i32) (param $queryScale f32)
    (param $planes i32) (param $at i32) (param $words i32) (param $mask i32)
    (param $count i32) (param $out i32) (param $hist i32)
    (local $slot i32) (local $w i32) (local $hit i32) (local $m i32) (local $v i32) (local $i i32)
    (local $acc v128) (local $a v128) (local $b v128) (local $d i32) (local $h i32) (local $dot i32)
    (local.set $m (local.get $at))
    (local.set $v (local.get $vectors))
    (block $done
      (loop $faces
        (br_if $done (i32.ge_u (local.get $slot) (local.get $count)))
        (local.set $hit (i32.const 0))
        (local.set $w (i32.const 0))
        (block $checked
          (loop $groups
            (br_if $checked (i32.ge_u (local.get $w) (local.get $words)))
            (local.set $hit (i32.and
              (i32.load (i32.add (i32.load (i32.add (local.get $planes) (i32.shl (local.get $w) (i32.const 2)))) (local.get $m)))
              (i32.load (i32.add (local.get $mask) (i32.shl (local.get $w) (i32.const 2))))))
            (br_if $checked (local.get $hit))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br $groups)))
        (if (local.get $hit)
          (then
            (local.set $acc (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $end
              (loop $lanes
                (br_if $end (i32.ge_u (local.get $i) (local.get $dim)))
                (local.set $a (v128.load (i32.add (local.get $query) (local.get $i))))
                (local.set $b (v128.load (i32.add (local.get $v) (local.get $i))))
                (local.set $acc (i32x4.add (local.get $acc)
                  (i32x4.add
                    (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))
                    (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b))))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $lanes)))
            (local.set $dot (i32.add
              (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
              (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
            ;; (1 - cos) · 256, in f32 as written: dot · queryScale, · scale, 1 − that, · 256, nearest (ties to even)
            (local.set $d (i32.trunc_sat_f32_s (f32.nearest (f32.mul
              (f32.sub (f32.const 1)
                (f32.mul
                  (f32.mul (f32.convert_i32_s (local.get $dot)) (local.get $queryScale))
                  (f32.load (i32.add (local.get $scales) (i32.shl (local.get $slot) (i32.const 2))))))
              (f32.const 256)))))
            (local.set $d (select (local.get $d) (i32.const 0) (i32.gt_s (local.get $d) (i32.const 0))))
            (local.set $d (select (local.get $d) (i32.const 512) (i32.lt_s (local.get $d) (i32.const 512))))
            (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $slot) (i32.const 1))) (local.get $d))
            (local.set $h (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 2))))
            (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1))))
          (else
            (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $slot) (i32.const 1))) (i32.const 0xFFFF))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (local.get $dim)))
        (br $faces))))

  ;; Writes (u32) the slots whose distance is in [$low, $high] into $result, at most $max of them, in slot
  ;; order; returns how many. Eight distances at a time: only a block with a slot in range (a few thousand of a
  ;; million) is looked at lane by lane. The last count % 8 slots go one by one, so nothing past them is read.
  (func (export "collect")
    (param $out i32) (param $count i32) (param $low i32) (param $high i32) (param $result i32) (param $max i32) (result i32)
    (local $slot i32) (local $n i32) (local $d i32) (local $whole i32) (local $bits i32)
    (local $lows v128) (local $highs v128) (local $block v128)
    (if (i32.eqz (local.get $max)) (then (return (i32.const 0))))
    (local.set $lows (i16x8.splat (local.get $low)))
    (local.set $highs (i16x8.splat (local.get $high)))
    (local.set $whole (i32.and (local.get $count) (i32.const -8)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $slot) (local.get $whole)))
        (local.set $block (v128.load (i32.add (local.get $out) (i32.shl (local.get $slot) (i32.const 1)))))
        (local.set $bits (i16x8.bitmask (v128.and
          (i16x8.ge_u (local.get $block) (local.get $lows))
          (i16x8.le_u (local.get $block) (local.get $highs)))))
        (block $lanesDone
          (loop $lanes
            (br_if $lanesDone (i32.eqz (local.get $bits)))
            (i32.store (i32.add (local.get $result) (i32.shl (local.get $n) (i32.const 2)))
              (i32.add (local.get $slot) (i32.ctz (local.get $bits))))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (if (i32.ge_u (local.get $n) (local.get $max)) (then (return (local.get $n))))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (br $lanes)))
        (local.set $slot (i32.add (local.get $slot) (i32.const 8)))
        (br $blocks)))
    (block $done
      (loop $faces
        (br_if $done (i32.ge_u (local.get $slot) (local.get $count)))
        (br_if $done (i32.ge_u (local.get $n) (local.get $max)))
        (local.set $d (i32.load16_u (i32.add (local.get $out) (i32.shl (local.get $slot) (i32.const 1)))))
        (if (i32.and (i32.ge_u (local.get $d) (local.get $low)) (i32.le_u (local.get $d) (local.get $high)))
          (then
            (i32.store (i32.add (local.get $result) (i32.shl (local.get $n) (i32.const 2))) (local.get $slot))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br $faces)))
    (local.get $n))

  ;; Integer dot products of the int8 query with the int8 vectors of the listed slots ($dim a multiple of 16).
  (func (export "dots")
    (param $query i32) (param $vectors i32) (param $dim i32) (param $slots i32) (param $n i32) (param $out i32)
    (local $k i32) (local $v i32) (local $i i32) (local $acc v128) (local $a v128) (local $b v128)
    (block $done
      (loop $candidates
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $v (i32.add (local.get $vectors)
          (i32.mul (i32.load (i32.add (local.get $slots) (i32.shl (local.get $k) (i32.const 2)))) (local.get $dim))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $end
          (loop $lanes
            (br_if $end (i32.ge_u (local.get $i) (local.get $dim)))
            (local.set $a (v128.load (i32.add (local.get $query) (local.get $i))))
            (local.set $b (v128.load (i32.add (local.get $v) (local.get $i))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.add
                (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))
                (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b))))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $lanes)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $candidates))))
  ;; Encodes one float32 vector (at $src, $dim components): its 512-bit sign code at $code (components beyond
  ;; 512 ignored, missing ones 0) and its int8 copy at $int8 ($padded bytes, zero-padded), scaled to the largest
  ;; magnitude. Returns the scale (vector ≈ scale · int8).
  (func (export "encode")
    (param $src i32) (param $dim i32) (param $code i32) (param $int8 i32) (param $padded i32) (result f32)
    (local $i i32) (local $x f32) (local $largest f32) (local $inverse f32) (local $bits i32)
    (memory.fill (local.get $code) (i32.const 0) (i32.const 64))
    (memory.fill (local.get $int8) (i32.const 0) (local.get $padded))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $largest (f32.max (local.get $largest)
          (f32.abs (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (local.set $bits (select (local.get $dim) (i32.const 512) (i32.lt_u (local.get $dim) (i32.const 512))))
    (local.set $i (i32.const 0))
    (block $coded
      (loop $signs
        (br_if $coded (i32.ge_u (local.get $i) (local.get $bits)))
        (if (f32.gt (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0))
          (then
            (i32.store8 (i32.add (local.get $code) (i32.shr_u (local.get $i) (i32.const 3)))
              (i32.or
                (i32.load8_u (i32.add (local.get $code) (i32.shr_u (local.get $i) (i32.const 3))))
                (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $signs)))
    (if (f32.eq (local.get $largest) (f32.const 0)) (then (return (f32.const 0))))
    (local.set $inverse (f32.div (f32.const 127) (local.get $largest)))
    (local.set $i (i32.const 0))
    (block $quantised
      (loop $values
        (br_if $quantised (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $x (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (i32.store8 (i32.add (local.get $int8) (local.get $i))
          (i32.trunc_sat_f32_s (f32.nearest (f32.mul (local.get $x) (local.get $inverse)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $values)))
    (f32.div (local.get $largest) (f32.const 127)))
)
