//! The standard exponential law (mean 1), drawn exactly as `rand_distr`'s `Exp1` draws
//! it (the same words of the stream, the same values), with its common case inlined
//! where a duration is drawn.
//!
//! `Exp1` is a ziggurat (Marsaglia and Tsang, 2000): one 64-bit word picks one of 256
//! layers (its low 8 bits) and a point across it (its high 52 bits), and in 97.8 % of
//! draws that point lies inside the layer's rectangle and is the value. `Exp1`'s loop,
//! with a logarithm for the tail and an exponential for a layer's wedge, makes each use
//! of it a call that saves and restores a dozen registers. Here the first try is a
//! handful of instructions at the call site; when it fails, the draw is handed to
//! `Exp1` itself, replaying the same first word, so that every value is `Exp1`'s by
//! construction. The tests check the copied table, and a million draws, against `Exp1`.

use rand::{Rng, TryRng};
use rand_distr::{Distribution, Exp1};
use std::convert::Infallible;

/// The layers' right edges, `x[i]`, from `rand_distr` 0.6 (`ziggurat_tables::ZIG_EXP_X`,
/// MIT or Apache-2.0, by the Rand project developers), whose tables are private.
/// Written as printed there: the same literals round to the same values.
#[rustfmt::skip]
#[allow(clippy::excessive_precision)]
static LAYER_EDGES: [f64; 257] = [
    8.697117470131052741, 7.697117470131050077, 6.941033629377212577, 6.478378493832569696,
    6.144164665772472667, 5.882144315795399869, 5.666410167454033697, 5.482890627526062488,
    5.323090505754398016, 5.181487281301500047, 5.054288489981304089, 4.938777085901250530,
    4.832939741025112035, 4.735242996601741083, 4.644491885420085175, 4.559737061707351380,
    4.480211746528421912, 4.405287693473573185, 4.334443680317273007, 4.267242480277365857,
    4.203313713735184365, 4.142340865664051464, 4.084051310408297830, 4.028208544647936762,
    3.974606066673788796, 3.923062500135489739, 3.873417670399509127, 3.825529418522336744,
    3.779270992411667862, 3.734528894039797375, 3.691201090237418825, 3.649195515760853770,
    3.608428813128909507, 3.568825265648337020, 3.530315889129343354, 3.492837654774059608,
    3.456332821132760191, 3.420748357251119920, 3.386035442460300970, 3.352149030900109405,
    3.319047470970748037, 3.286692171599068679, 3.255047308570449882, 3.224079565286264160,
    3.193757903212240290, 3.164053358025972873, 3.134938858084440394, 3.106389062339824481,
    3.078380215254090224, 3.050890016615455114, 3.023897504455676621, 2.997382949516130601,
    2.971327759921089662, 2.945714394895045718, 2.920526286512740821, 2.895747768600141825,
    2.871364012015536371, 2.847360965635188812, 2.823725302450035279, 2.800444370250737780,
    2.777506146439756574, 2.754899196562344610, 2.732612636194700073, 2.710636095867928752,
    2.688959688741803689, 2.667573980773266573, 2.646469963151809157, 2.625639026797788489,
    2.605072938740835564, 2.584763820214140750, 2.564704126316905253, 2.544886627111869970,
    2.525304390037828028, 2.505950763528594027, 2.486819361740209455, 2.467904050297364815,
    2.449198932978249754, 2.430698339264419694, 2.412396812688870629, 2.394289099921457886,
    2.376370140536140596, 2.358635057409337321, 2.341079147703034380, 2.323697874390196372,
    2.306486858283579799, 2.289441870532269441, 2.272558825553154804, 2.255833774367219213,
    2.239262898312909034, 2.222842503111036816, 2.206569013257663858, 2.190438966723220027,
    2.174449009937774679, 2.158595893043885994, 2.142876465399842001, 2.127287671317368289,
    2.111826546019042183, 2.096490211801715020, 2.081275874393225145, 2.066180819490575526,
    2.051202409468584786, 2.036338080248769611, 2.021585338318926173, 2.006941757894518563,
    1.992404978213576650, 1.977972700957360441, 1.963642687789548313, 1.949412758007184943,
    1.935280786297051359, 1.921244700591528076, 1.907302480018387536, 1.893452152939308242,
    1.879691795072211180, 1.866019527692827973, 1.852433515911175554, 1.838931967018879954,
    1.825513128903519799, 1.812175288526390649, 1.798916770460290859, 1.785735935484126014,
    1.772631179231305643, 1.759600930889074766, 1.746643651946074405, 1.733757834985571566,
    1.720942002521935299, 1.708194705878057773, 1.695514524101537912, 1.682900062917553896,
    1.670349953716452118, 1.657862852574172763, 1.645437439303723659, 1.633072416535991334,
    1.620766508828257901, 1.608518461798858379, 1.596327041286483395, 1.584191032532688892,
    1.572109239386229707, 1.560080483527888084, 1.548103603714513499, 1.536177455041032092,
    1.524300908219226258, 1.512472848872117082, 1.500692176842816750, 1.488957805516746058,
    1.477268661156133867, 1.465623682245745352, 1.454021818848793446, 1.442462031972012504,
    1.430943292938879674, 1.419464582769983219, 1.408024891569535697, 1.396623217917042137,
    1.385258568263121992, 1.373929956328490576, 1.362636402505086775, 1.351376933258335189,
    1.340150580529504643, 1.328956381137116560, 1.317793376176324749, 1.306660610415174117,
    1.295557131686601027, 1.284481990275012642, 1.273434238296241139, 1.262412929069615330,
    1.251417116480852521, 1.240445854334406572, 1.229498195693849105, 1.218573192208790124,
    1.207669893426761121, 1.196787346088403092, 1.185924593404202199, 1.175080674310911677,
    1.164254622705678921, 1.153445466655774743, 1.142652227581672841, 1.131873919411078511,
    1.121109547701330200, 1.110358108727411031, 1.099618588532597308, 1.088889961938546813,
    1.078171191511372307, 1.067461226479967662, 1.056759001602551429, 1.046063435977044209,
    1.035373431790528542, 1.024687873002617211, 1.014005623957096480, 1.003325527915696735,
    0.992646405507275897, 0.981967053085062602, 0.971286240983903260, 0.960602711668666509,
    0.949915177764075969, 0.939222319955262286, 0.928522784747210395, 0.917815182070044311,
    0.907098082715690257, 0.896370015589889935, 0.885629464761751528, 0.874874866291025066,
    0.864104604811004484, 0.853317009842373353, 0.842510351810368485, 0.831682837734273206,
    0.820832606554411814, 0.809957724057418282, 0.799056177355487174, 0.788125868869492430,
    0.777164609759129710, 0.766170112735434672, 0.755139984181982249, 0.744071715500508102,
    0.732962673584365398, 0.721810090308756203, 0.710611050909655040, 0.699362481103231959,
    0.688061132773747808, 0.676703568029522584, 0.665286141392677943, 0.653804979847664947,
    0.642255960424536365, 0.630634684933490286, 0.618936451394876075, 0.607156221620300030,
    0.595288584291502887, 0.583327712748769489, 0.571267316532588332, 0.559100585511540626,
    0.546820125163310577, 0.534417881237165604, 0.521885051592135052, 0.509211982443654398,
    0.496388045518671162, 0.483401491653461857, 0.470239275082169006, 0.456886840931420235,
    0.443327866073552401, 0.429543940225410703, 0.415514169600356364, 0.401214678896277765,
    0.386617977941119573, 0.371692145329917234, 0.356399760258393816, 0.340696481064849122,
    0.324529117016909452, 0.307832954674932158, 0.290527955491230394, 0.272513185478464703,
    0.253658363385912022, 0.233790483059674731, 0.212671510630966620, 0.189958689622431842,
    0.165127622564187282, 0.137304980940012589, 0.104838507565818778, 0.063852163815001570,
    0.000000000000000000,
];

/// Draws from the standard exponential law: `Exp1.sample(rng)`, bit for bit, leaving
/// `rng` in the same state.
#[inline(always)]
pub(super) fn sample<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let word = rng.next_u64();
    let layer = (word & 0xff) as usize;
    // The point across the layer, in (0, 1): the word's high 52 bits as the fraction
    // of a number in [1, 2), less just under 1.
    let across = f64::from_bits((word >> 12) | 1.0f64.to_bits()) - (1.0 - f64::EPSILON / 2.0);
    let x = across * LAYER_EDGES[layer];
    if x < LAYER_EDGES[layer + 1] {
        x
    } else {
        after_first_try(word, rng)
    }
}

/// The rest of a draw whose first word fell outside its layer's rectangle (in the
/// tail, or in a wedge): `Exp1` draws again from that word, then from `rng`.
#[cold]
#[inline(never)]
fn after_first_try<R: Rng + ?Sized>(word: u64, rng: &mut R) -> f64 {
    Exp1.sample(&mut Replay {
        first: Some(word),
        rest: rng,
    })
}

/// A stream that gives `first` again, then goes on with `rest`. `Exp1` draws only
/// 64-bit words (the tests see every path it takes), so only those replay.
struct Replay<'a, R: ?Sized> {
    first: Option<u64>,
    rest: &'a mut R,
}

impl<R: Rng + ?Sized> TryRng for Replay<'_, R> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        debug_assert!(self.first.is_none(), "only 64-bit words replay");
        Ok(self.rest.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.first.take().unwrap_or_else(|| self.rest.next_u64()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        debug_assert!(self.first.is_none(), "only 64-bit words replay");
        self.rest.fill_bytes(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::ComponentRng;

    /// A stream that gives one word, forever.
    struct Constant(u64);

    impl TryRng for Constant {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(self.0 as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            Ok(self.0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            dst.fill(0);
            Ok(())
        }
    }

    #[test]
    fn the_layer_edges_are_exp1s() {
        // The word `i` (high bits 0) picks layer i and the point 1 - (1 - eps/2) = 2^-53
        // across it: `Exp1` returns x[i] * 2^-53, exactly (a power of two), and inside
        // the rectangle whenever x[i + 1] > 0, i.e. for every layer but the last. So
        // `Exp1`'s own table reads back, entry by entry.
        for layer in 0..255u64 {
            let value: f64 = Exp1.sample(&mut Constant(layer));
            assert_eq!(
                value * 2f64.powi(53),
                LAYER_EDGES[layer as usize],
                "layer {layer}"
            );
        }
        // The last layer's rectangle is empty (the edge after it is 0), so no first try
        // ends there, whatever its own edge: only that 0 matters.
        assert_eq!(LAYER_EDGES[256], 0.0);
    }

    #[test]
    fn draws_are_exp1s_bit_for_bit_on_every_path() {
        // A million draws from one stream: each value, and the stream's state after it,
        // must equal Exp1's. A first try in layer i (1 word in 256) fails when the
        // point lies beyond x[i+1] / x[i] of the way across, so
        //   P(handed over) = sum over i of (1 - x[i+1] / x[i]) / 256 = 2.22 %
        // (from the table: the 97.8 % the module's documentation gives is 1 - that),
        // about 22,200 of a million draws, binomial sd sqrt(n p (1 - p)) = 147; and
        //   P(handed over from the tail) = (1 - x[1] / x[0]) / 256
        //                                = (1 - 7.697 / 8.697) / 256 = 0.045 %,
        // about 449 draws, sd 21. Both counts must lie within 5 sd: the tail's path
        // and the wedges' both run, as often as the table says.
        let draws = 1_000_000u32;
        let mut ours = ComponentRng::new(7, 11, 13);
        let mut theirs = ours;
        let (mut handed_over, mut from_the_tail) = (0u32, 0u32);
        for draw in 0..draws {
            let before = ours;
            let value = sample(&mut ours);
            let expected: f64 = Exp1.sample(&mut theirs);
            assert_eq!(value.to_bits(), expected.to_bits(), "draw {draw}");
            assert_eq!(ours, theirs, "the stream after draw {draw}");
            if ours.draws_since(before) > 1 {
                handed_over += 1;
                let mut first = before;
                if first.next_u64() & 0xff == 0 {
                    from_the_tail += 1;
                }
            }
        }
        let p_handed_over = (0..256)
            .map(|i| 1.0 - LAYER_EDGES[i + 1] / LAYER_EDGES[i])
            .sum::<f64>()
            / 256.0;
        assert_eq!((1000.0 * (1.0 - p_handed_over)).round(), 978.0);
        let p_tail = (1.0 - LAYER_EDGES[1] / LAYER_EDGES[0]) / 256.0;
        for (what, count, p) in [
            ("handed over", handed_over, p_handed_over),
            ("from the tail", from_the_tail, p_tail),
        ] {
            let n = f64::from(draws);
            let (mean, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
            assert!(
                (f64::from(count) - mean).abs() < 5.0 * sd,
                "{what}: {count} draws, expected {mean:.0} ± {sd:.0}"
            );
        }
    }
}
