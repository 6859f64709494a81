/* The skewed cascade kernel of biquad.c, written once for every vector
 * width: biquad.c includes this file once per instruction set. */

/* Before each inclusion, biquad.c defines
 *   RA_SIMD(name)      the instance's names: ra_avx2_name
 *   RA_SIMD_OP(name)   the width's operations below: ra_avx2_name
 *   RA_MM(op)          the width's intrinsic for op: _mm256_op_pd
 *   RA_SIMD_TARGET     the target attribute of every function
 *   RA_SIMD_LANES      doubles a vector
 *   RA_SIMD_VEC        the vector type
 *   RA_SIMD_MASK       a set of lanes
 *   RA_SIMD_PICK       what store_lane() takes to find a lane
 *   RA_SIMD_PAIR_VECS  the most vectors of bands a group may have for two
 *                      channels to run interleaved (the registers decide)
 *   RA_SIMD_JOINT_VECS the most vectors of a joint pass (struct ra_joint),
 *                      0 for none (the registers decide too)
 * and, under the width's names, the operations
 *   shift_in(y, x)           lanes of y up one, x into lane 0
 *   live(lag, end, now)      the lanes where lag <= now < end
 *   select(mask, old, new)   new in the lanes of mask, old elsewhere
 *   lag(nvec, v)             l * (nvec + 1) + v in each lane l: the
 *                            delay of the band there, in vector v
 *   pick_lane(lane)          the pick for lane
 *   store_lane(p, y, pick)   that lane of y into *p
 * The macros are undefined at the end of this file. */

/* Each kernel runs a group of one cascade, or the same group of two
 * cascades of one layout (two channels) at once, vector by vector in turn:
 * one channel's latency (two dependent fused operations a step) then hides
 * behind the other's work, where the registers allow (RA_SIMD_PAIR_VECS).
 * Each lane still performs the header's operations in order, so a pair
 * gives the bytes of two single calls, and every width the same bytes. */

#define RA_SIMD_INLINE RA_ALWAYS_INLINE RA_SIMD_TARGET
#define RA_SIMD_CHAN RA_SIMD(chan)

/* One channel's registers during a group's pass. */
struct RA_SIMD_CHAN {
	RA_SIMD_VEC k[RA_NCOEF * RA_JOINT_VECS]; /* as in ra_group.coef */
	RA_SIMD_VEC s1[RA_JOINT_VECS], s2[RA_JOINT_VECS];
	RA_SIMD_VEC y[RA_JOINT_VECS]; /* the previous step's outputs */
	RA_SIMD_VEC yd;		      /* the last vector's, from the step before */
};

/* One vector of bands filters X, a sample each, with the header's
 * operations lane by lane (fnmadd(a, y, c) = fma(-a, y, c), one rounding),
 * and returns their outputs. Lanes outside MASK keep their state: a band
 * before its first sample or after its last, whose output feeds only a
 * band in the same case at the next step. */
RA_SIMD_INLINE RA_SIMD_VEC RA_SIMD(bands)(const RA_SIMD_VEC *kv, RA_SIMD_VEC x, RA_SIMD_VEC *s1,
					  RA_SIMD_VEC *s2, const RA_SIMD_MASK *mask)
{
	const RA_SIMD_VEC y = RA_MM(fmadd)(kv[0], x, *s1);
	const RA_SIMD_VEC t = RA_MM(fmadd)(kv[1], x, *s2);
	const RA_SIMD_VEC n1 = RA_MM(fnmadd)(kv[3], y, t);
	const RA_SIMD_VEC n2 = RA_MM(fnmadd)(kv[4], y, RA_MM(mul)(kv[2], x));

	if (mask) {
		*s1 = RA_SIMD_OP(select)(*mask, *s1, n1);
		*s2 = RA_SIMD_OP(select)(*mask, *s2, n2);
	} else {
		*s1 = n1;
		*s2 = n2;
	}
	return y;
}

/* One step: every band of the group, on each of NCH channels, advances by
 * one sample. Band 0 of channel c takes XIN[c]; the first band of every
 * other lane, the last vector's output of two steps back; but for the
 * lanes of INJECT (a joint pass's second channel) in vector 0, which take
 * XB. */
RA_SIMD_INLINE void RA_SIMD(step)(struct RA_SIMD_CHAN *ch, const double *xin,
				  const RA_SIMD_MASK *mask, const int nch, const int nvec,
				  const RA_SIMD_MASK *inject, double xb)
{
	RA_SIMD_VEC x[RA_PAIR][RA_JOINT_VECS];

#pragma GCC unroll 2
	for (int c = 0; c < nch; c++) {
		x[c][0] = RA_SIMD_OP(shift_in)(ch[c].yd, xin[c]);
		if (inject)
			x[c][0] = RA_SIMD_OP(select)(*inject, x[c][0], RA_MM(set1)(xb));
		ch[c].yd = ch[c].y[nvec - 1];
#pragma GCC unroll 5
		for (int v = 1; v < nvec; v++)
			x[c][v] = ch[c].y[v - 1];
	}
#pragma GCC unroll 5
	for (int v = 0; v < nvec; v++) {
#pragma GCC unroll 2
		for (int c = 0; c < nch; c++)
			ch[c].y[v] = RA_SIMD(bands)(ch[c].k + RA_NCOEF * v, x[c][v], &ch[c].s1[v],
						    &ch[c].s2[v], mask ? &mask[v] : NULL);
	}
}

/* The lanes whose band has a sample at step NOW. */
RA_SIMD_INLINE void RA_SIMD(masks)(RA_SIMD_MASK *mask, const RA_SIMD_VEC *lag,
				   const RA_SIMD_VEC *end, RA_SIMD_VEC now, const int nvec)
{
#pragma GCC unroll 5
	for (int v = 0; v < nvec; v++)
		mask[v] = RA_SIMD_OP(live)(lag[v], end[v], now);
}

/* The first step at which each band has a sample, LAG, and the step after
 * its last, END = lag + frames. */
RA_SIMD_INLINE void RA_SIMD(lags)(RA_SIMD_VEC *lag, RA_SIMD_VEC *end, size_t frames, const int nvec)
{
#pragma GCC unroll 5
	for (int v = 0; v < nvec; v++) {
		lag[v] = RA_SIMD_OP(lag)(nvec, v);
		end[v] = RA_MM(add)(lag[v], RA_MM(set1)((double)frames));
	}
}

/* A channel's coefficients and state from its group G; no outputs yet. */
RA_SIMD_INLINE void RA_SIMD(load)(struct RA_SIMD_CHAN *ch, const struct ra_group *g, const int nvec)
{
#pragma GCC unroll 5
	for (int v = 0; v < nvec; v++) {
		const double *kv = g->coef + RA_NCOEF * v * RA_SIMD_LANES;
		const double *sv = g->state + 2 * v * RA_SIMD_LANES;

#pragma GCC unroll 5
		for (int i = 0; i < RA_NCOEF; i++)
			ch->k[RA_NCOEF * v + i] = RA_MM(load)(kv + i * RA_SIMD_LANES);
		ch->s1[v] = RA_MM(load)(sv);
		ch->s2[v] = RA_MM(load)(sv + RA_SIMD_LANES);
		ch->y[v] = RA_MM(setzero)();
	}
	ch->yd = RA_MM(setzero)();
}

/* A channel's state back into its group G. */
RA_SIMD_INLINE void RA_SIMD(save)(const struct RA_SIMD_CHAN *ch, struct ra_group *g, const int nvec)
{
#pragma GCC unroll 5
	for (int v = 0; v < nvec; v++) {
		RA_MM(store)(g->state + 2 * v * RA_SIMD_LANES, ch->s1[v]);
		RA_MM(store)(g->state + (2 * v + 1) * RA_SIMD_LANES, ch->s2[v]);
	}
}

/* Group G[c] of NCH channels over BUF[c]: lead steps of ramp-in, the steady
 * steps, lead steps of ramp-out. The ramps make each call self-contained,
 * so any split of a signal into blocks gives the same bits. The channels
 * share a layout, hence the lags and masks. */
RA_SIMD_INLINE void RA_SIMD(group)(struct ra_group *const *g, double *const *buf, size_t frames,
				   const int nch, const int nvec, const int out_vec)
{
	const RA_SIMD_PICK pick = RA_SIMD_OP(pick_lane)(g[0]->out_lane);
	const size_t lead = g[0]->lead, steps = frames + lead;
	struct RA_SIMD_CHAN ch[RA_PAIR];
	RA_SIMD_VEC lag[RA_GROUP_VECS], end[RA_GROUP_VECS];
	RA_SIMD_MASK mask[RA_GROUP_VECS];
	RA_SIMD_VEC now = RA_MM(setzero)();
	const RA_SIMD_VEC one = RA_MM(set1)(1);
	double xin[RA_PAIR];
	size_t n = 0;

#pragma GCC unroll 2
	for (int c = 0; c < nch; c++)
		RA_SIMD(load)(&ch[c], g[c], nvec);
	RA_SIMD(lags)(lag, end, frames, nvec);

	/* Ramp-in; with frames < lead, some bands also finish here. */
	for (; n < lead; n++, now = RA_MM(add)(now, one)) {
		RA_SIMD(masks)(mask, lag, end, now, nvec);
#pragma GCC unroll 2
		for (int c = 0; c < nch; c++)
			xin[c] = n < frames ? buf[c][n] : 0.0;
		RA_SIMD(step)(ch, xin, mask, nch, nvec, NULL, 0);
	}
	/* Sample n - lead was read lead steps ago: writing it in place is safe. */
	for (; n < frames; n++) {
#pragma GCC unroll 2
		for (int c = 0; c < nch; c++)
			xin[c] = buf[c][n];
		RA_SIMD(step)(ch, xin, NULL, nch, nvec, NULL, 0);
#pragma GCC unroll 2
		for (int c = 0; c < nch; c++)
			RA_SIMD_OP(store_lane)(buf[c] + (n - lead), ch[c].y[out_vec], pick);
	}
	for (now = RA_MM(set1)((double)n); n < steps; n++, now = RA_MM(add)(now, one)) {
		RA_SIMD(masks)(mask, lag, end, now, nvec);
#pragma GCC unroll 2
		for (int c = 0; c < nch; c++)
			xin[c] = 0.0;
		RA_SIMD(step)(ch, xin, mask, nch, nvec, NULL, 0);
#pragma GCC unroll 2
		for (int c = 0; c < nch; c++)
			RA_SIMD_OP(store_lane)(buf[c] + (n - lead), ch[c].y[out_vec], pick);
	}

#pragma GCC unroll 2
	for (int c = 0; c < nch; c++)
		RA_SIMD(save)(&ch[c], g[c], nvec);
}

RA_SIMD_TARGET static void RA_SIMD(group1)(struct ra_group *g, double *buf, size_t frames);

/* NCH channels of a group of NVEC vectors: interleaved where the registers
 * allow, else one channel after the other. */
RA_SIMD_INLINE void RA_SIMD(channels)(struct ra_group *const *g, double *const *buf, size_t frames,
				      const int nch, const int nvec, const int out_vec)
{
	if (nch == 1 || nvec <= RA_SIMD_PAIR_VECS) {
		RA_SIMD(group)(g, buf, frames, nch, nvec, out_vec);
	} else {
		RA_SIMD(group1)(g[0], buf[0], frames);
		RA_SIMD(group1)(g[1], buf[1], frames);
	}
}

/* Group G[c] of NCH channels over BUF[c], by the kernel instance for its
 * shape (ra_group_shape()). */
RA_SIMD_INLINE void RA_SIMD(shapes)(struct ra_group *const *g, double *const *buf, size_t frames,
				    const int nch)
{
	switch (ra_group_shape(g[0])) {
	case RA_SHAPE(1, 0):
		RA_SIMD(channels)(g, buf, frames, nch, 1, 0);
		break;
	case RA_SHAPE(2, 0):
		RA_SIMD(channels)(g, buf, frames, nch, 2, 0);
		break;
	case RA_SHAPE(2, 1):
		RA_SIMD(channels)(g, buf, frames, nch, 2, 1);
		break;
	case RA_SHAPE(3, 0):
		RA_SIMD(channels)(g, buf, frames, nch, 3, 0);
		break;
	case RA_SHAPE(3, 1):
		RA_SIMD(channels)(g, buf, frames, nch, 3, 1);
		break;
	case RA_SHAPE(3, 2):
		RA_SIMD(channels)(g, buf, frames, nch, 3, 2);
		break;
	case RA_SHAPE(4, 0):
		RA_SIMD(channels)(g, buf, frames, nch, 4, 0);
		break;
	case RA_SHAPE(4, 1):
		RA_SIMD(channels)(g, buf, frames, nch, 4, 1);
		break;
	case RA_SHAPE(4, 2):
		RA_SIMD(channels)(g, buf, frames, nch, 4, 2);
		break;
	default:
		RA_SIMD(channels)(g, buf, frames, nch, 4, 3);
		break;
	}
}

/* Group G of one channel over BUF. */
RA_SIMD_TARGET static void RA_SIMD(group1)(struct ra_group *g, double *buf, size_t frames)
{
	RA_SIMD(shapes)(&g, &buf, frames, 1);
}

/* The same group of two channels. */
RA_SIMD_TARGET static void RA_SIMD(group2)(struct ra_group *const *g, double *const *buf,
					   size_t frames)
{
	RA_SIMD(shapes)(g, buf, frames, RA_PAIR);
}

/* One step N of joint pass J over BUF, outside its steady stretch: the
 * masks, the inputs each channel has, the outputs that are due. */
RA_SIMD_INLINE void RA_SIMD(joint_ramp)(const struct ra_joint *j, struct RA_SIMD_CHAN *ch,
					double *const *buf, size_t frames, size_t n,
					const RA_SIMD_VEC *lag, const RA_SIMD_VEC *end,
					const RA_SIMD_MASK *inject, const RA_SIMD_PICK *pick,
					const int nvec, const int out_vec)
{
	const size_t lead_a = j->g.lead, lead_b = j->lag_b + j->g.lead;
	const double xa = n < frames ? buf[0][n] : 0.0;
	const double xb = n >= j->lag_b && n - j->lag_b < frames ? buf[1][n - j->lag_b] : 0.0;
	RA_SIMD_MASK mask[RA_JOINT_VECS];

	RA_SIMD(masks)(mask, lag, end, RA_MM(set1)((double)n), nvec);
	RA_SIMD(step)(ch, &xa, mask, 1, nvec, inject, xb);
	if (n >= lead_a && n - lead_a < frames)
		RA_SIMD_OP(store_lane)(buf[0] + (n - lead_a), ch->y[out_vec], pick[0]);
	if (n >= lead_b)
		RA_SIMD_OP(store_lane)(buf[1] + (n - lead_b), ch->y[out_vec], pick[1]);
}

/* Joint pass J of NVEC vectors over BUF[0] and BUF[1] (struct ra_joint):
 * ramp-in until the second channel's first output, the steady steps,
 * ramp-out. Both channels' last bands sit in vector OUT_VEC. */
RA_SIMD_INLINE void RA_SIMD(joint)(struct ra_joint *j, double *const *buf, size_t frames,
				   const int nvec, const int out_vec)
{
	const size_t lead_a = j->g.lead, lag_b = j->lag_b, lead_b = lag_b + lead_a;
	const RA_SIMD_PICK pick[RA_PAIR] = { RA_SIMD_OP(pick_lane)(j->g.out_lane),
					     RA_SIMD_OP(pick_lane)(j->lane_b + j->g.out_lane) };
	RA_SIMD_VEC lag[RA_JOINT_VECS], end[RA_JOINT_VECS];
	struct RA_SIMD_CHAN ch;
	RA_SIMD_MASK inject;
	size_t n = 0;

	RA_SIMD(load)(&ch, &j->g, nvec);
	RA_SIMD(lags)(lag, end, frames, nvec);
	inject = RA_SIMD_OP(live)(lag[0], RA_MM(add)(lag[0], RA_MM(set1)(1)),
				  RA_MM(set1)((double)lag_b));
	for (; n < lead_b; n++)
		RA_SIMD(joint_ramp)(j, &ch, buf, frames, n, lag, end, &inject, pick, nvec, out_vec);
	/* Each channel's sample is written after it was read, as in group(). */
	for (; n < frames; n++) {
		const double xa = buf[0][n];

		RA_SIMD(step)(&ch, &xa, NULL, 1, nvec, &inject, buf[1][n - lag_b]);
		RA_SIMD_OP(store_lane)(buf[0] + (n - lead_a), ch.y[out_vec], pick[0]);
		RA_SIMD_OP(store_lane)(buf[1] + (n - lead_b), ch.y[out_vec], pick[1]);
	}
	for (; n < frames + lead_b; n++)
		RA_SIMD(joint_ramp)(j, &ch, buf, frames, n, lag, end, &inject, pick, nvec, out_vec);
	RA_SIMD(save)(&ch, &j->g, nvec);
}

/* Groups G of two channels as one joint pass of NVEC vectors, by the
 * kernel instance for its shape: the shapes ra_joint_vecs() gives, groups
 * of 5 and 6 bands in 3 vectors at 4 lanes, 9 and 10 in 5; at 8 lanes 9
 * to 12 in 3, 17 to 20 in 5. */
RA_SIMD_INLINE void RA_SIMD(joint_shapes)(struct ra_group *const *g, double *const *buf,
					  size_t frames, int nvec)
{
	struct ra_joint j;

	ra_joint_open(&j, g, nvec, RA_SIMD_LANES);
	switch (ra_group_shape(&j.g)) {
	case RA_SHAPE(3, 0):
		RA_SIMD(joint)(&j, buf, frames, 3, 0);
		break;
	case RA_SHAPE(3, 1):
		RA_SIMD(joint)(&j, buf, frames, 3, 1);
		break;
	case RA_SHAPE(3, 2):
		RA_SIMD(joint)(&j, buf, frames, 3, 2);
		break;
	case RA_SHAPE(5, 1):
		RA_SIMD(joint)(&j, buf, frames, 5, 1);
		break;
	case RA_SHAPE(5, 2):
		RA_SIMD(joint)(&j, buf, frames, 5, 2);
		break;
	case RA_SHAPE(5, 3):
		RA_SIMD(joint)(&j, buf, frames, 5, 3);
		break;
	case RA_SHAPE(5, 4):
		RA_SIMD(joint)(&j, buf, frames, 5, 4);
		break;
	default: /* ra_joint_vecs() gives no other */
		abort();
	}
	ra_joint_close(&j, g, RA_SIMD_LANES);
}

RA_SIMD_TARGET static void RA_SIMD(cascade)(ra_cascade *cs, double *buf, size_t frames)
{
	for (int i = 0; frames && i < cs->ngroups; i++)
		RA_SIMD(group1)(&cs->group[i], buf, frames);
}

/* A and B share a layout (ra_cascade_process2() sees to it). */
RA_SIMD_TARGET static void RA_SIMD(cascade_pair)(ra_cascade *a, double *buf_a, ra_cascade *b,
						 double *buf_b, size_t frames)
{
	double *const buf[RA_PAIR] = { buf_a, buf_b };

	for (int i = 0; frames && i < a->ngroups; i++) {
		struct ra_group *const g[RA_PAIR] = { &a->group[i], &b->group[i] };
		const int joint =
			ra_joint_vecs(g[0]->bands, g[0]->nvec, RA_SIMD_LANES, RA_SIMD_JOINT_VECS);

		if (joint)
			RA_SIMD(joint_shapes)(g, buf, frames, joint);
		else
			RA_SIMD(group2)(g, buf, frames);
	}
}

#undef RA_SIMD_INLINE
#undef RA_SIMD_CHAN
#undef RA_SIMD
#undef RA_MM
#undef RA_SIMD_TARGET
#undef RA_SIMD_LANES
#undef RA_SIMD_OP
#undef RA_SIMD_PAIR_VECS
#undef RA_SIMD_JOINT_VECS
#undef RA_SIMD_VEC
#undef RA_SIMD_MASK
#undef RA_SIMD_PICK
