#include "textflag.h"

// func scanQuotes(b []byte, m *uint64) bool
//
// Reads b 16 bytes a step (SSE2, in every amd64). For each 16 bytes,
// PCMPEQB against 16 quotes and PMOVMSKB give 16 bits of the quote mask,
// stored as the next 16 bits of m. For the text check the steps keep the
// OR of all bytes (a high bit set: a byte of 0x80 or more) and their
// unsigned minimum (zero: a NUL), both before the compare overwrites the
// bytes.
//
// 16 <= len(b): the bytes left after the last whole 16 are read as the
// line's last 16, a load that overlaps the previous one and stays inside
// b; the bits of the bytes already seen are shifted out. The mask word of
// the end, word len(b)/64, is zeroed first, as the steps may write only
// part of it.
//
// Registers: SI the next byte, R9 the end of b, DI the next 16 mask
// bits, X1 16 quotes, X2 the OR, X3 the minimum.
//
// With AVX2 (useAVX2, set at start-up from CPUID) a line of 32 bytes or
// more is read 32 bytes a step instead, in the same way (scanAVX2 below).
TEXT ·scanQuotes(SB), NOSPLIT, $0-33
	MOVQ	b_base+0(FP), SI
	MOVQ	b_len+8(FP), BX
	MOVQ	m+24(FP), DI
	LEAQ	(SI)(BX*1), R9
	MOVQ	BX, R10
	SHRQ	$6, R10 // whole blocks of 64 bytes, and the end's word
	MOVQ	$0, (DI)(R10*8)
	CMPQ	BX, $32
	JB	sse2
	CMPB	·useAVX2(SB), $0
	JNE	avx2

sse2:
	MOVQ	$0x2222222222222222, AX
	MOVQ	AX, X1
	PUNPCKLQDQ	X1, X1
	PXOR	X2, X2
	PCMPEQB	X3, X3
	TESTQ	R10, R10
	JZ	tail

block:
	// 64 bytes: one mask word.
	MOVOU	(SI), X4
	MOVOU	16(SI), X5
	MOVOU	32(SI), X6
	MOVOU	48(SI), X7
	POR	X4, X2
	POR	X5, X2
	POR	X6, X2
	POR	X7, X2
	PMINUB	X4, X3
	PMINUB	X5, X3
	PMINUB	X6, X3
	PMINUB	X7, X3
	PCMPEQB	X1, X4
	PCMPEQB	X1, X5
	PCMPEQB	X1, X6
	PCMPEQB	X1, X7
	PMOVMSKB	X4, AX
	PMOVMSKB	X5, CX
	PMOVMSKB	X6, DX
	PMOVMSKB	X7, R8
	MOVW	AX, (DI)
	MOVW	CX, 2(DI)
	MOVW	DX, 4(DI)
	MOVW	R8, 6(DI)
	ADDQ	$64, SI
	ADDQ	$8, DI
	DECQ	R10
	JNZ	block

tail:
	// 0 to 63 bytes left: whole 16s, then the rest.
	MOVQ	R9, R11
	SUBQ	SI, R11

chunk:
	CMPQ	R11, $16
	JB	last
	MOVOU	(SI), X4
	POR	X4, X2
	PMINUB	X4, X3
	PCMPEQB	X1, X4
	PMOVMSKB	X4, AX
	MOVW	AX, (DI)
	ADDQ	$16, SI
	ADDQ	$2, DI
	SUBQ	$16, R11
	JMP	chunk

last:
	// R11 = 0 to 15 bytes left, the end of the line's last 16.
	TESTQ	R11, R11
	JZ	done
	MOVOU	-16(R9), X4
	POR	X4, X2
	PMINUB	X4, X3
	PCMPEQB	X1, X4
	PMOVMSKB	X4, AX
	MOVQ	$16, CX
	SUBQ	R11, CX
	SHRL	CX, AX // drop the 16-R11 bytes seen before
	MOVW	AX, (DI)

done:
	// Text: no high bit in the OR, and no zero byte in the minimum.
	PMOVMSKB	X2, AX
	PXOR	X4, X4
	PCMPEQB	X4, X3
	PMOVMSKB	X3, CX
	ORL	CX, AX
	SETEQ	ret+32(FP)
	RET

avx2:
	// The same with 32 bytes a step: Y1 32 quotes, Y2 the OR, Y3 the
	// minimum; 32 <= len(b).
	MOVQ	$0x2222222222222222, AX
	MOVQ	AX, X1
	VPBROADCASTQ	X1, Y1
	VPXOR	Y2, Y2, Y2
	VPCMPEQB	Y3, Y3, Y3
	TESTQ	R10, R10
	JZ	tail32

block32:
	VMOVDQU	(SI), Y4
	VMOVDQU	32(SI), Y5
	VPOR	Y4, Y2, Y2
	VPOR	Y5, Y2, Y2
	VPMINUB	Y4, Y3, Y3
	VPMINUB	Y5, Y3, Y3
	VPCMPEQB	Y1, Y4, Y4
	VPCMPEQB	Y1, Y5, Y5
	VPMOVMSKB	Y4, AX
	VPMOVMSKB	Y5, CX
	MOVL	AX, (DI)
	MOVL	CX, 4(DI)
	ADDQ	$64, SI
	ADDQ	$8, DI
	DECQ	R10
	JNZ	block32

tail32:
	// 0 to 63 bytes left: a whole 32, then the rest as the end of the
	// line's last 32.
	MOVQ	R9, R11
	SUBQ	SI, R11
	CMPQ	R11, $32
	JB	last32
	VMOVDQU	(SI), Y4
	VPOR	Y4, Y2, Y2
	VPMINUB	Y4, Y3, Y3
	VPCMPEQB	Y1, Y4, Y4
	VPMOVMSKB	Y4, AX
	MOVL	AX, (DI)
	ADDQ	$32, SI
	ADDQ	$4, DI
	SUBQ	$32, R11

last32:
	TESTQ	R11, R11
	JZ	done32
	VMOVDQU	-32(R9), Y4
	VPOR	Y4, Y2, Y2
	VPMINUB	Y4, Y3, Y3
	VPCMPEQB	Y1, Y4, Y4
	VPMOVMSKB	Y4, AX
	MOVQ	$32, CX
	SUBQ	R11, CX
	SHRL	CX, AX // drop the 32-R11 bytes seen before
	MOVL	AX, (DI)

done32:
	VPMOVMSKB	Y2, AX
	VPXOR	Y4, Y4, Y4
	VPCMPEQB	Y4, Y3, Y3
	VPMOVMSKB	Y3, CX
	VZEROUPPER
	ORL	CX, AX
	SETEQ	ret+32(FP)
	RET

// func hasAVX2() bool
//
// CPUID: AVX2 (leaf 7, EBX bit 5), and the OS saving the YMM registers
// (leaf 1, ECX bits 27 OSXSAVE and 28 AVX; XCR0 bits 1 and 2).
TEXT ·hasAVX2(SB), NOSPLIT, $0-1
	MOVB	$0, ret+0(FP)
	XORL	AX, AX
	XORL	CX, CX
	CPUID
	CMPL	AX, $7
	JB	no
	MOVL	$1, AX
	XORL	CX, CX
	CPUID
	ANDL	$0x18000000, CX
	CMPL	CX, $0x18000000
	JNE	no
	XORL	CX, CX
	XGETBV
	ANDL	$6, AX
	CMPL	AX, $6
	JNE	no
	MOVL	$7, AX
	XORL	CX, CX
	CPUID
	BTL	$5, BX
	JCC	no
	MOVB	$1, ret+0(FP)

no:
	RET
