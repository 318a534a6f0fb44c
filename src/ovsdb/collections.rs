//! The set and map inside a [`Datum`](super::Datum): sorted, deduplicated vectors.
//!
//! A column holds a handful of values, most often one. A `BTreeSet` allocates a whole tree
//! node (about half a kilobyte) even for one element, which made a 10,000-tenant topology's
//! 140,000 rows cost ~5 KB each; a sorted `Vec` costs what its elements cost. Lookups are binary
//! searches; the API is the part of `BTreeSet`/`BTreeMap` topo uses.

use std::collections::{BTreeMap, BTreeSet};

/// A sorted set without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Set<A>(Vec<A>);

impl<A> Default for Set<A> {
    fn default() -> Self {
        Set(Vec::new())
    }
}

impl<A: Ord> Set<A> {
    pub(crate) fn new() -> Self {
        Set(Vec::new())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, A> {
        self.0.iter()
    }

    pub(crate) fn contains(&self, a: &A) -> bool {
        self.0.binary_search(a).is_ok()
    }

    /// Adds `a`; false if it was there.
    pub(crate) fn insert(&mut self, a: A) -> bool {
        match self.0.binary_search(&a) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, a);
                true
            }
        }
    }

    /// Removes `a`; false if it was not there.
    pub(crate) fn remove(&mut self, a: &A) -> bool {
        match self.0.binary_search(a) {
            Ok(i) => {
                self.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// The set of `f` of each element, for an `f` that keeps the order (strictly increasing):
    /// no sorting, and the vector is reused when `B` is the size of `A`.
    pub(crate) fn map_ordered<B: Ord>(self, f: impl FnMut(A) -> B) -> Set<B> {
        let v: Vec<B> = self.0.into_iter().map(f).collect();
        debug_assert!(
            v.windows(2).all(|w| w[0] < w[1]),
            "map_ordered broke the order"
        );
        Set(v)
    }

    /// Elements of `self` not in `other`, in order.
    pub(crate) fn difference<'a>(&'a self, other: &'a Set<A>) -> impl Iterator<Item = &'a A> + 'a {
        self.0.iter().filter(move |a| !other.contains(a))
    }
}

impl<A: Ord> FromIterator<A> for Set<A> {
    fn from_iter<I: IntoIterator<Item = A>>(iter: I) -> Self {
        let mut v: Vec<A> = iter.into_iter().collect();
        v.sort();
        v.dedup();
        Set(v)
    }
}

impl<A: Ord> Extend<A> for Set<A> {
    fn extend<I: IntoIterator<Item = A>>(&mut self, iter: I) {
        self.0.extend(iter);
        self.0.sort();
        self.0.dedup();
    }
}

impl<A: Ord, const N: usize> From<[A; N]> for Set<A> {
    fn from(items: [A; N]) -> Self {
        items.into_iter().collect()
    }
}

impl<A: Ord> From<BTreeSet<A>> for Set<A> {
    fn from(s: BTreeSet<A>) -> Self {
        Set(s.into_iter().collect())
    }
}

impl<A> IntoIterator for Set<A> {
    type Item = A;
    type IntoIter = std::vec::IntoIter<A>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, A> IntoIterator for &'a Set<A> {
    type Item = &'a A;
    type IntoIter = std::slice::Iter<'a, A>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A map sorted by key, one entry per key (the last one given wins, as in `BTreeMap`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Map<A>(Vec<(A, A)>);

impl<A> Default for Map<A> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

type PairRef<'a, A> = fn(&'a (A, A)) -> (&'a A, &'a A);

impl<A: Ord> Map<A> {
    pub(crate) fn new() -> Self {
        Map(Vec::new())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::iter::Map<std::slice::Iter<'_, (A, A)>, PairRef<'_, A>> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &A> {
        self.0.iter().map(|(k, _)| k)
    }

    fn find(&self, k: &A) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.cmp(k))
    }

    pub fn get(&self, k: &A) -> Option<&A> {
        self.find(k).ok().map(|i| &self.0[i].1)
    }

    pub(crate) fn contains_key(&self, k: &A) -> bool {
        self.find(k).is_ok()
    }

    /// Sets `k` to `v`; returns the previous value.
    pub(crate) fn insert(&mut self, k: A, v: A) -> Option<A> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                self.0.insert(i, (k, v));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, k: &A) -> Option<A> {
        self.find(k).ok().map(|i| self.0.remove(i).1)
    }

    /// [`Set::map_ordered`] for maps: `f` maps keys and values and keeps the keys' order.
    pub(crate) fn map_ordered<B: Ord>(self, mut f: impl FnMut(A) -> B) -> Map<B> {
        let v: Vec<(B, B)> = self.0.into_iter().map(|(k, v)| (f(k), f(v))).collect();
        debug_assert!(
            v.windows(2).all(|w| w[0].0 < w[1].0),
            "map_ordered broke the order"
        );
        Map(v)
    }
}

impl<A: Ord> FromIterator<(A, A)> for Map<A> {
    fn from_iter<I: IntoIterator<Item = (A, A)>>(iter: I) -> Self {
        let mut v: Vec<(A, A)> = iter.into_iter().collect();
        // Stable, so among equal keys the last given stays last; keep that one.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(A, A)> = Vec::with_capacity(v.len());
        for pair in v {
            match out.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => out.push(pair),
            }
        }
        Map(out)
    }
}

impl<A: Ord> Extend<(A, A)> for Map<A> {
    fn extend<I: IntoIterator<Item = (A, A)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<A: Ord, const N: usize> From<[(A, A); N]> for Map<A> {
    fn from(items: [(A, A); N]) -> Self {
        items.into_iter().collect()
    }
}

impl<A: Ord> From<BTreeMap<A, A>> for Map<A> {
    fn from(m: BTreeMap<A, A>) -> Self {
        Map(m.into_iter().collect())
    }
}

impl<A> IntoIterator for Map<A> {
    type Item = (A, A);
    type IntoIter = std::vec::IntoIter<(A, A)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, A: Ord> IntoIterator for &'a Map<A> {
    type Item = (&'a A, &'a A);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (A, A)>, PairRef<'a, A>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_sorted_and_unique() {
        let s: Set<i32> = [3, 1, 3, 2].into_iter().collect();
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        let mut t = s.clone();
        assert!(!t.insert(2));
        assert!(t.insert(0));
        assert!(t.remove(&3));
        assert_eq!(t.difference(&s).copied().collect::<Vec<_>>(), vec![0]);
        assert!(s.contains(&3) && !t.contains(&3));
    }

    #[test]
    fn maps_keep_the_last_value_per_key() {
        let m: Map<i32> = [(2, 20), (1, 10), (2, 21)].into_iter().collect();
        assert_eq!(
            m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            vec![(1, 10), (2, 21)]
        );
        let mut n = m.clone();
        assert_eq!(n.insert(1, 11), Some(10));
        assert_eq!(n.get(&1), Some(&11));
        assert_eq!(n.remove(&2), Some(21));
        assert!(!n.contains_key(&2));
        let b: BTreeMap<i32, i32> = [(2, 21), (1, 10)].into_iter().collect();
        assert_eq!(Map::from(b), m);
    }
}
