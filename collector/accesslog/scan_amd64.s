#include "textflag.h"

// func scanQuotes(b []byte, m *uint64) bool
//
// Reads b 16 bytes a step (SSE2, in every amd64). For each 16 bytes,
// PCMPEQB against 16 quotes and PMOVMSKB give 16 bits of the quote mask,
// which are gathered into 64-bit words and stored to m; PCMPGTB against
// zero (a signed compare) keeps 0xff for the bytes 0x01 to 0x7f and 0x00
// for NUL and the bytes of 0x80 or more, and the AND of those over the
// line is all ones exactly when the line is ASCII without NUL.
//
// 16 <= len(b): the bytes left after the last whole 16 are read as the
// line's last 16, a load that overlaps the previous one and stays inside
// b; their bits already seen are shifted out of the mask.
//
// Registers: SI the next byte, R9 the end of b, DI the next mask word,
// AX the word being gathered, X1 16 quotes, X2 zero, X3 the text check.
TEXT ·scanQuotes(SB), NOSPLIT, $0-33
	MOVQ	b_base+0(FP), SI
	MOVQ	b_len+8(FP), BX
	MOVQ	m+24(FP), DI
	LEAQ	(SI)(BX*1), R9
	MOVQ	$0x2222222222222222, AX
	MOVQ	AX, X1
	PUNPCKLQDQ	X1, X1
	PXOR	X2, X2
	PCMPEQB	X3, X3
	MOVQ	BX, R10
	SHRQ	$6, R10 // whole blocks of 64 bytes
	JZ	tail

block:
	// 64 bytes: one mask word.
	MOVOU	(SI), X4
	MOVOU	16(SI), X5
	MOVOU	32(SI), X6
	MOVOU	48(SI), X7
	MOVO	X1, X8
	MOVO	X1, X9
	MOVO	X1, X10
	MOVO	X1, X11
	PCMPEQB	X4, X8
	PCMPEQB	X5, X9
	PCMPEQB	X6, X10
	PCMPEQB	X7, X11
	PMOVMSKB	X8, AX
	PMOVMSKB	X9, CX
	PMOVMSKB	X10, DX
	PMOVMSKB	X11, R8
	SHLQ	$16, CX
	SHLQ	$32, DX
	SHLQ	$48, R8
	ORQ	CX, AX
	ORQ	R8, DX
	ORQ	DX, AX
	MOVQ	AX, (DI)
	PCMPGTB	X2, X4 // X4 = X4 > 0, signed, byte by byte
	PCMPGTB	X2, X5
	PCMPGTB	X2, X6
	PCMPGTB	X2, X7
	PAND	X5, X4
	PAND	X7, X6
	PAND	X4, X3
	PAND	X6, X3
	ADDQ	$64, SI
	ADDQ	$8, DI
	DECQ	R10
	JNZ	block

tail:
	// 0 to 63 bytes left: whole 16s, then the rest, gathered into AX
	// from bit CX on.
	MOVQ	R9, R11
	SUBQ	SI, R11 // bytes left
	XORQ	AX, AX
	XORQ	CX, CX

chunk:
	CMPQ	R11, $16
	JB	last
	MOVOU	(SI), X4
	MOVO	X1, X8
	PCMPEQB	X4, X8
	PMOVMSKB	X8, DX
	SHLQ	CX, DX
	ORQ	DX, AX
	PCMPGTB	X2, X4
	PAND	X4, X3
	ADDQ	$16, SI
	ADDQ	$16, CX
	SUBQ	$16, R11
	JMP	chunk

last:
	// R11 = 0 to 15 bytes left, the end of the line's last 16.
	TESTQ	R11, R11
	JZ	store
	MOVOU	-16(R9), X4
	MOVO	X1, X8
	PCMPEQB	X4, X8
	PMOVMSKB	X8, DX
	PCMPGTB	X2, X4
	PAND	X4, X3
	MOVQ	CX, R12
	MOVQ	$16, CX
	SUBQ	R11, CX
	SHRQ	CX, DX // drop the 16-R11 bytes seen before
	MOVQ	R12, CX
	SHLQ	CX, DX
	ORQ	DX, AX

store:
	// The word of the line's end, zero when the line is a whole number
	// of 64 bytes.
	MOVQ	AX, (DI)
	PMOVMSKB	X3, AX
	CMPL	AX, $0xffff
	SETEQ	ret+32(FP)
	RET
