/*
 * margin.h
 *	  The exact route: every figure of one position, exactly, by the
 *	  formulas of formulas_template.h over Dec (decimal.h), which never fails.
 */
#ifndef ISOMARGIN_MARGIN_H
#define ISOMARGIN_MARGIN_H

#include "decimal.h"
#include "formulas.h"

/*
 * Defines
 * MarginBracket, MarginSchedule, MarginPosition and margin_position_init,
 * margin_schedule_flat, margin_schedule_finish, margin_notional,
 * margin_unrealized_pnl, margin_equity, margin_initial, margin_maintenance,
 * margin_ratio_at, margin_check, margin_threshold_price and
 * margin_bankruptcy_price.
 */
#define FT_PREFIX margin
#define FT_TYPE_PREFIX Margin
#define FT_NUM Dec
#define FT_CTX_DECL
#define FT_CTX
#define FT_ADD(a, b) dec_add(a, b)
#define FT_SUB(a, b) dec_sub(a, b)
#define FT_MUL(a, b) dec_mul(a, b)
#define FT_NEG(a) dec_neg(a)
#define FT_SIGN(a) dec_sign(a)
#define FT_CMP(a, b) dec_cmp(a, b)
#define FT_LE(a, b) (dec_cmp(a, b) <= 0)
#define FT_GE(a, b) (dec_cmp(a, b) >= 0)
#define FT_INT(i) dec_from_int(i)
#define FT_IS_ONE(a) dec_is_one(a)
#define FT_IS_ZERO(a) dec_is_zero(a)
#define FT_SAME_SIGN(a, b) (dec_sign(a) * dec_sign(b) > 0)
#define FT_SCALE(a) ((a).scale)
#define FT_DIV(num, den, scale, up) dec_div_round(num, den, scale, (up) ? DEC_CEIL : DEC_FLOOR)
#define FT_DIV_TICK(num, den, tick, up) dec_div_round_tick(num, den, tick, (up) ? DEC_CEIL : DEC_FLOOR)
#define FT_UNIT(k) dec_make(1, k)
#define FT_WALK_BROKEN() elog(ERROR, "isomargin: the bracket walk of a price did not settle")
#define FT_SCOPE static inline
#include "formulas_template.h"

#endif
