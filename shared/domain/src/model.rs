//! A learned model of churn: boosted decision trees over the signals' measures, giving the
//! log-odds that a customer churns within the window. Calibration trains it where a business
//! has enough outcomes and stores it in a rules version (`[score.model]`); the score then reads
//! as the probability in percent, and each signal's part of it comes from its Shapley value
//! (TreeSHAP), so "why" stays honest for a non-linear model too.
//!
//! The trees are kept as parallel arrays, one entry per node: compact in a rules version (a
//! few tens of KB), and evaluated without allocation.

use serde::{Deserialize, Serialize};

use super::score::Signal;

/// Boosted trees: the log-odds of churning are `base` plus one leaf value from each tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forest {
    /// The model's inputs, in the order the trees' `split_on` refers to them.
    pub signals: Vec<Signal>,
    /// The log-odds before any tree: the training period's base rate.
    pub base: f64,
    pub trees: Vec<Tree>,
}

/// One tree; node 0 is the root. A node goes left when the measure is below `split_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// The input each node splits on (a place in [`Forest::signals`]); -1 for a leaf.
    pub split_on: Vec<i64>,
    pub split_at: Vec<f64>,
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    /// A leaf's log-odds (ignored on a split).
    pub value: Vec<f64>,
    /// How much of the training data reached the node (its hessian sum): TreeSHAP weighs the
    /// branch a value does not take by it.
    pub cover: Vec<f64>,
}

/// What is wrong with a stored model, naming the part.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub part: String,
    pub reason: &'static str,
}

impl Forest {
    /// The log-odds for the inputs `x` (in [`Forest::signals`] order).
    pub fn margin(&self, x: &[f64]) -> f64 {
        self.base + self.trees.iter().map(|t| t.predict(x)).sum::<f64>()
    }

    /// Each input's Shapley value in log-odds: they add up to `margin(x) - expected`, where
    /// `expected` is the trees' average over the training data (their covers).
    pub fn contributions(&self, x: &[f64]) -> Vec<f64> {
        let mut phi = vec![0.0; self.signals.len()];
        for tree in &self.trees {
            tree.shap(x, &mut phi);
        }
        phi
    }

    /// The log-odds a customer with no signal known gets on average: `base` plus each tree's
    /// cover-weighted mean leaf.
    pub fn expected(&self) -> f64 {
        self.base + self.trees.iter().map(|t| t.mean(0)).sum::<f64>()
    }

    /// Checks the structure: a stored model that does not hold together is refused at load,
    /// never followed into an endless loop or past the end of an array.
    pub fn validate(&self) -> Result<(), Invalid> {
        let bad = |part: String, reason| Err(Invalid { part, reason });
        if self.trees.is_empty() {
            return bad("trees".into(), "a model needs at least one tree");
        }
        for (i, s) in self.signals.iter().enumerate() {
            if self.signals[..i].contains(s) {
                return bad(format!("signals[{i}]"), "a signal is listed twice");
            }
        }
        if !self.base.is_finite() {
            return bad("base".into(), "must be a number");
        }
        for (i, tree) in self.trees.iter().enumerate() {
            if let Err(reason) = tree.validate(self.signals.len()) {
                return bad(format!("trees[{i}]"), reason);
            }
        }
        Ok(())
    }
}

/// A forest made ready to score at load. A tree's Shapley values depend on the input only
/// through the side it takes at each split, so for a small tree they are worked out once for
/// every combination of sides (a few hundred at most): scoring then compares the input with
/// each split and adds up one row per tree, a few hundred nanoseconds where the recursion takes
/// several microseconds. Larger trees keep the recursion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Forest", into = "Forest")]
pub struct Model {
    forest: Forest,
    expected: f64,
    /// One per tree; `None` for a tree too large to tabulate (or a forest that does not
    /// validate, which the rules refuse anyway).
    tables: Vec<Option<Table>>,
}

/// The most splits a tree may have for its Shapley values to be tabulated (2⁸ rows).
const MAX_TABULATED_SPLITS: usize = 8;

/// One tree's Shapley values for each combination of sides at its splits.
#[derive(Clone, Debug, PartialEq)]
struct Table {
    /// Each split's input and threshold; bit `i` of a row's number is set when the input is
    /// below split `i`'s threshold.
    splits: Vec<(usize, f64)>,
    /// The inputs the tree splits on: a row holds one value per input, in this order.
    inputs: Vec<usize>,
    rows: Vec<f64>,
}

impl From<Forest> for Model {
    fn from(forest: Forest) -> Model {
        if forest.validate().is_err() {
            // never walked: the rules refuse the model at load, naming what is wrong
            return Model {
                forest,
                expected: f64::NAN,
                tables: Vec::new(),
            };
        }
        let tables = forest
            .trees
            .iter()
            .map(|t| t.table(forest.signals.len()))
            .collect();
        Model {
            expected: forest.expected(),
            forest,
            tables,
        }
    }
}

impl From<Model> for Forest {
    fn from(model: Model) -> Forest {
        model.forest
    }
}

impl Model {
    pub fn forest(&self) -> &Forest {
        &self.forest
    }

    pub fn signals(&self) -> &[Signal] {
        &self.forest.signals
    }

    pub fn margin(&self, x: &[f64]) -> f64 {
        self.forest.margin(x)
    }

    /// [`Forest::expected`], worked out at load.
    pub fn expected(&self) -> f64 {
        self.expected
    }

    /// [`Forest::contributions`], from the tables where a tree has one.
    pub fn contributions(&self, x: &[f64]) -> Vec<f64> {
        let mut phi = vec![0.0; self.forest.signals.len()];
        for (i, tree) in self.forest.trees.iter().enumerate() {
            match self.tables.get(i).and_then(Option::as_ref) {
                Some(table) => table.add(x, &mut phi),
                None => tree.shap(x, &mut phi),
            }
        }
        phi
    }
}

impl Table {
    fn row(&self, x: &[f64]) -> usize {
        self.splits
            .iter()
            .enumerate()
            .filter(|(_, (input, at))| x[*input] < *at)
            .fold(0, |row, (bit, _)| row | 1 << bit)
    }

    fn add(&self, x: &[f64], phi: &mut [f64]) {
        let width = self.inputs.len();
        let row = &self.rows[self.row(x) * width..][..width];
        for (input, value) in self.inputs.iter().zip(row) {
            phi[*input] += value;
        }
    }
}

impl Tree {
    fn is_leaf(&self, node: usize) -> bool {
        self.split_on[node] < 0
    }

    /// The leaf `x` falls into.
    fn leaf(&self, x: &[f64]) -> usize {
        let mut node = 0;
        while !self.is_leaf(node) {
            node = self.child(node, x);
        }
        node
    }

    fn child(&self, node: usize, x: &[f64]) -> usize {
        let v = x[self.split_on[node] as usize];
        if v < self.split_at[node] {
            self.left[node] as usize
        } else {
            self.right[node] as usize
        }
    }

    fn predict(&self, x: &[f64]) -> f64 {
        self.value[self.leaf(x)]
    }

    /// The cover-weighted mean of the leaves below `node`.
    fn mean(&self, node: usize) -> f64 {
        if self.is_leaf(node) {
            return self.value[node];
        }
        let (l, r) = (self.left[node] as usize, self.right[node] as usize);
        let (cl, cr) = (self.cover[l], self.cover[r]);
        (cl * self.mean(l) + cr * self.mean(r)) / (cl + cr)
    }

    /// Children after their parent and inside the arrays (so every walk ends), one entry per
    /// node in every array, finite numbers and positive covers.
    fn validate(&self, inputs: usize) -> Result<(), &'static str> {
        let n = self.split_on.len();
        if n == 0 {
            return Err("a tree needs at least one node");
        }
        if [
            self.split_at.len(),
            self.left.len(),
            self.right.len(),
            self.value.len(),
            self.cover.len(),
        ]
        .iter()
        .any(|len| *len != n)
        {
            return Err("every array must have one entry per node");
        }
        for node in 0..n {
            if !(self.value[node].is_finite() && self.cover[node].is_finite())
                || self.cover[node] <= 0.0
            {
                return Err("values must be numbers and covers above 0");
            }
            if self.is_leaf(node) {
                continue;
            }
            if self.split_on[node] as usize >= inputs || !self.split_at[node].is_finite() {
                return Err("a split must name one of the model's signals at a number");
            }
            for child in [self.left[node], self.right[node]] {
                if child as usize <= node || child as usize >= n {
                    return Err("a child must come after its parent, inside the tree");
                }
            }
        }
        if self.depth(0) > MAX_DEPTH {
            return Err("a tree may be at most 10 splits deep");
        }
        Ok(())
    }

    /// Adds each input's Shapley value for this tree to `phi`: the path-dependent TreeSHAP of
    /// Lundberg, Erion and Lee (2018), algorithm 2, exact and polynomial in the depth. The path
    /// lives on the stack (trees are at most [`MAX_DEPTH`] deep), so scoring allocates nothing.
    fn shap(&self, x: &[f64], phi: &mut [f64]) {
        self.shap_by(&|node| self.child(node, x), phi);
    }

    /// [`Tree::shap`] for an input that goes from each split to the child `goes` names: the
    /// values depend on the input only through these choices.
    fn shap_by(&self, goes: &impl Fn(usize) -> usize, phi: &mut [f64]) {
        self.recurse(goes, phi, 0, Path::default(), 1.0, 1.0, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn recurse(
        &self,
        goes: &impl Fn(usize) -> usize,
        phi: &mut [f64],
        node: usize,
        mut path: Path,
        zero: f64,
        one: f64,
        input: Option<usize>,
    ) {
        path.extend(zero, one, input);
        if self.is_leaf(node) {
            for i in 1..path.len {
                let s = path.steps[i];
                if let Some(d) = s.input {
                    phi[d] += path.unwound_sum(i) * (s.one - s.zero) * self.value[node];
                }
            }
            return;
        }
        let split = self.split_on[node] as usize;
        let hot = goes(node);
        let cold = if hot == self.left[node] as usize {
            self.right[node] as usize
        } else {
            self.left[node] as usize
        };
        let (mut zero, mut one) = (1.0, 1.0);
        if let Some(k) = (1..path.len).find(|k| path.steps[*k].input == Some(split)) {
            zero = path.steps[k].zero;
            one = path.steps[k].one;
            path.unwind(k);
        }
        let cover = self.cover[node];
        let (hot_share, cold_share) = (self.cover[hot] / cover, self.cover[cold] / cover);
        self.recurse(goes, phi, hot, path, zero * hot_share, one, Some(split));
        self.recurse(goes, phi, cold, path, zero * cold_share, 0.0, Some(split));
    }

    /// The Shapley values for every combination of sides at the splits; `None` past
    /// [`MAX_TABULATED_SPLITS`]. Only for a tree that validates.
    fn table(&self, inputs: usize) -> Option<Table> {
        let nodes: Vec<usize> = (0..self.split_on.len())
            .filter(|n| !self.is_leaf(*n))
            .collect();
        if nodes.len() > MAX_TABULATED_SPLITS {
            return None;
        }
        let mut used: Vec<usize> = nodes.iter().map(|n| self.split_on[*n] as usize).collect();
        used.sort_unstable();
        used.dedup();
        let mut rows = Vec::with_capacity((1 << nodes.len()) * used.len());
        let mut bit = vec![0; self.split_on.len()];
        for (b, node) in nodes.iter().enumerate() {
            bit[*node] = b;
        }
        let mut phi = vec![0.0; inputs];
        for row in 0..1_usize << nodes.len() {
            let goes = |node: usize| {
                if row & 1 << bit[node] != 0 {
                    self.left[node] as usize
                } else {
                    self.right[node] as usize
                }
            };
            phi.fill(0.0);
            self.shap_by(&goes, &mut phi);
            rows.extend(used.iter().map(|i| phi[*i]));
        }
        Some(Table {
            splits: nodes
                .iter()
                .map(|n| (self.split_on[*n] as usize, self.split_at[*n]))
                .collect(),
            inputs: used,
            rows,
        })
    }

    /// The longest way from the root to a leaf, in splits.
    fn depth(&self, node: usize) -> usize {
        if self.is_leaf(node) {
            return 0;
        }
        1 + self
            .depth(self.left[node] as usize)
            .max(self.depth(self.right[node] as usize))
    }
}

/// The deepest tree a model may hold: TreeSHAP's path has one step per split and the root.
pub const MAX_DEPTH: usize = 10;

/// One input on the path from the root: the share of the training data that follows it when
/// the input is unknown (`zero`) and known (`one`, 0 or 1), and the path's permutation weight.
#[derive(Clone, Copy, Debug, Default)]
struct Step {
    input: Option<usize>,
    zero: f64,
    one: f64,
    weight: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Path {
    steps: [Step; MAX_DEPTH + 1],
    len: usize,
}

impl Path {
    fn extend(&mut self, zero: f64, one: f64, input: Option<usize>) {
        let l = self.len;
        let p = &mut self.steps;
        p[l] = Step {
            input,
            zero,
            one,
            weight: if l == 0 { 1.0 } else { 0.0 },
        };
        self.len += 1;
        let n = (l + 1) as f64;
        for i in (0..l).rev() {
            p[i + 1].weight += one * p[i].weight * (i + 1) as f64 / n;
            p[i].weight = zero * p[i].weight * (l - i) as f64 / n;
        }
    }

    fn unwind(&mut self, i: usize) {
        let l = self.len - 1;
        let p = &mut self.steps;
        let Step { zero, one, .. } = p[i];
        let mut next = p[l].weight;
        let n = (l + 1) as f64;
        for j in (0..l).rev() {
            if one != 0.0 {
                let t = p[j].weight;
                p[j].weight = next * n / ((j + 1) as f64 * one);
                next = t - p[j].weight * zero * (l - j) as f64 / n;
            } else {
                p[j].weight = p[j].weight * n / (zero * (l - j) as f64);
            }
        }
        for j in i..l {
            p[j].input = p[j + 1].input;
            p[j].zero = p[j + 1].zero;
            p[j].one = p[j + 1].one;
        }
        self.len = l;
    }

    /// The sum of the path's weights had step `i` been unwound, without unwinding it.
    fn unwound_sum(&self, i: usize) -> f64 {
        let l = self.len - 1;
        let p = &self.steps;
        let Step { zero, one, .. } = p[i];
        let n = (l + 1) as f64;
        let mut next = p[l].weight;
        let mut total = 0.0;
        for j in (0..l).rev() {
            if one != 0.0 {
                let t = next * n / ((j + 1) as f64 * one);
                total += t;
                next = p[j].weight - t * zero * (l - j) as f64 / n;
            } else {
                total += p[j].weight * n / (zero * (l - j) as f64);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x0 < 0.5 → (x1 < 0.5 → -1 | 1) | 2, covers 10 / 6 (3 + 3) / 4.
    fn tree() -> Tree {
        Tree {
            split_on: vec![0, 1, -1, -1, -1],
            split_at: vec![0.5, 0.5, 0.0, 0.0, 0.0],
            left: vec![1, 3, 0, 0, 0],
            right: vec![2, 4, 0, 0, 0],
            value: vec![0.0, 0.0, 2.0, -1.0, 1.0],
            cover: vec![10.0, 6.0, 4.0, 3.0, 3.0],
        }
    }

    fn forest() -> Forest {
        Forest {
            signals: vec![Signal::Inactivity, Signal::LoginGap],
            base: -2.0,
            trees: vec![tree(), tree()],
        }
    }

    #[test]
    fn the_margin_is_the_base_plus_one_leaf_per_tree() {
        let f = forest();
        assert_eq!(f.margin(&[0.9, 0.0]), -2.0 + 4.0);
        assert_eq!(f.margin(&[0.1, 0.1]), -2.0 - 2.0);
        assert_eq!(f.margin(&[0.1, 0.7]), -2.0 + 2.0);
    }

    #[test]
    fn contributions_add_up_to_the_margin_above_the_expected_value() {
        let f = forest();
        for x in [[0.9, 0.0], [0.1, 0.1], [0.1, 0.7], [0.5, 0.5]] {
            let phi = f.contributions(&x);
            let sum: f64 = phi.iter().sum();
            assert!(
                (sum - (f.margin(&x) - f.expected())).abs() < 1e-9,
                "{x:?}: {phi:?}"
            );
        }
    }

    #[test]
    fn contributions_match_the_shapley_values_worked_by_hand() {
        // one tree; expected value 0.6·0 + 0.4·2 = 0.8 (the x0 < 0.5 side averages 0)
        // for x = (0.1, 0.1), leaf -1: f({}) = 0.8, f({0}) = 0, f({1}) = 0.6·-1 + 0.4·2 = 0.2,
        // f({0,1}) = -1; φ0 = ½(0 - 0.8) + ½(-1 - 0.2) = -1.0, φ1 = ½(0.2 - 0.8) + ½(-1 - 0) = -0.8
        let one = Forest {
            trees: vec![tree()],
            ..forest()
        };
        let phi = one.contributions(&[0.1, 0.1]);
        assert!((phi[0] + 1.0).abs() < 1e-9, "{phi:?}");
        assert!((phi[1] + 0.8).abs() < 1e-9, "{phi:?}");
    }

    /// Depth 3 with one input split on twice at different thresholds, and a lopsided
    /// branch: the cases the tables must get right.
    fn deeper() -> Tree {
        Tree {
            split_on: vec![0, 1, 0, -1, 2, -1, -1, -1, -1],
            split_at: vec![0.5, 0.3, 0.8, 0.0, 0.6, 0.0, 0.0, 0.0, 0.0],
            left: vec![1, 3, 5, 0, 7, 0, 0, 0, 0],
            right: vec![2, 4, 6, 0, 8, 0, 0, 0, 0],
            value: vec![0.0, 0.0, 0.0, -1.5, 0.0, 0.7, 2.5, 0.2, -0.4],
            cover: vec![20.0, 12.0, 8.0, 5.0, 7.0, 3.0, 5.0, 4.0, 3.0],
        }
    }

    proptest::proptest! {
        #[test]
        fn the_tables_give_the_recursion_s_values(
            x in proptest::collection::vec(-1.0..1.0_f64, 3),
        ) {
            let forest = Forest {
                signals: vec![Signal::Inactivity, Signal::LoginGap, Signal::Nps],
                base: -1.0,
                trees: vec![tree(), deeper(), deeper()],
            };
            let model = Model::from(forest.clone());
            let (tabled, walked) = (model.contributions(&x), forest.contributions(&x));
            for (a, b) in tabled.iter().zip(&walked) {
                proptest::prop_assert!((a - b).abs() < 1e-12, "{tabled:?} vs {walked:?}");
            }
            proptest::prop_assert!((model.expected() - forest.expected()).abs() < 1e-12);
        }
    }

    #[test]
    fn a_tree_too_large_to_tabulate_is_walked() {
        // a chain of nine splits on input 0: over the table's eight
        let n = 19;
        let is_split = |i: u32| i.is_multiple_of(2) && i < 18;
        let child = |offset: u32| (0..n).map(move |i| if is_split(i) { i + offset } else { 0 });
        let chain = Tree {
            split_on: (0..n).map(|i| if is_split(i) { 0 } else { -1 }).collect(),
            split_at: (0..n).map(|i| 0.1 * (i / 2) as f64).collect(),
            left: child(1).collect(),
            right: child(2).collect(),
            value: (0..n).map(|i| i as f64 / 10.0).collect(),
            cover: (0..n).map(|i| 100.0 - 5.0 * i as f64).collect(),
        };
        let forest = Forest {
            signals: vec![Signal::Inactivity],
            base: 0.0,
            trees: vec![chain],
        };
        forest.validate().unwrap();
        let model = Model::from(forest.clone());
        assert!(model.tables[0].is_none());
        assert_eq!(model.contributions(&[0.45]), forest.contributions(&[0.45]));
    }

    #[test]
    fn a_model_that_does_not_hold_together_is_refused_naming_the_part() {
        let mut looped = forest();
        looped.trees[1].left[1] = 0;
        assert_eq!(looped.validate().unwrap_err().part, "trees[1]");
        let mut short = forest();
        short.trees[0].cover.pop();
        assert_eq!(short.validate().unwrap_err().part, "trees[0]");
        let mut unknown = forest();
        unknown.trees[0].split_on[1] = 2;
        assert!(unknown.validate().is_err());
        let mut twice = forest();
        twice.signals[1] = Signal::Inactivity;
        assert_eq!(twice.validate().unwrap_err().part, "signals[1]");
        assert!(forest().validate().is_ok());
    }
}
