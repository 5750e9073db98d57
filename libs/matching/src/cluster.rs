/// Groups `n` records into clusters given matched pairs (union–find); returns a cluster
/// number per record, numbered by first appearance.
pub fn clusters(n: usize, matched: &[(u32, u32)]) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    for (a, b) in matched {
        if (*a as usize) < n && (*b as usize) < n {
            let (ra, rb) = (find(&mut parent, *a), find(&mut parent, *b));
            if ra != rb {
                parent[ra.max(rb) as usize] = ra.min(rb);
            }
        }
    }
    let mut label = std::collections::HashMap::new();
    (0..n as u32)
        .map(|i| {
            let r = find(&mut parent, i);
            let next = label.len() as u32;
            *label.entry(r).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn transitive_pairs_form_one_cluster() {
        assert_eq!(super::clusters(5, &[(0, 2), (2, 4)]), vec![0, 1, 0, 2, 0]);
    }
}
