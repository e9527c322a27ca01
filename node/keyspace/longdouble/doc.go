// Package longdouble is the C long double arithmetic Redis uses for
// INCRBYFLOAT and HINCRBYFLOAT: on x86-64 the x87 80-bit extended format (a
// 64-bit significand, a 15-bit exponent). Redis parses with strtold (via
// string2ld), adds in long double and prints with "%.17Lf" minus trailing
// zeros (ld2string in LD_STR_HUMAN mode), so its replies differ from any
// float64 computation in the last digits: 1000.1 prints as
// 1000.09999999999999998, 0.1 + 0.2 as 0.3.
//
// It owns exact emulation of those three steps with math/big. It must not
// know about commands, keys or replies; callers word the errors.
package longdouble
