//! Fuzzy matching of OCR text against the form's printed labels.
//!
//! OCR of a phone photo misspells: Kazakh letters come out as their Russian
//! look-alikes, Cyrillic as Latin, words split or run together. Text is
//! therefore folded to a plain alphabet before comparing, and a line of OCR
//! text is compared with the best-matching *part* of a label (a wrapped label
//! prints over several lines, each holding only a piece of it).

/// Folds text for matching: lowercase, letters only, Kazakh-specific and
/// Latin look-alike letters mapped to the Russian letter they are misread
/// as, runs of anything else collapsed to one space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'ә' => 'а',
            'ғ' => 'г',
            'қ' => 'к',
            'ң' => 'н',
            'ө' => 'о',
            'ұ' | 'ү' => 'у',
            'һ' => 'х',
            'і' | 'i' => 'и',
            'ё' => 'е',
            'й' => 'и',
            'a' => 'а',
            'b' => 'в',
            'c' => 'с',
            'e' => 'е',
            'h' => 'н',
            'k' => 'к',
            'm' => 'м',
            'o' => 'о',
            'p' => 'р',
            't' => 'т',
            'x' => 'х',
            'y' => 'у',
            c => c,
        };
        if mapped.is_alphabetic() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(mapped);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Edit distance from `needle` to the closest substring of `haystack`
/// (Sellers' algorithm: free start and end in the haystack).
pub fn substring_distance(needle: &[char], haystack: &[char]) -> usize {
    let mut prev: Vec<usize> = vec![0; haystack.len() + 1];
    let mut cur: Vec<usize> = vec![0; haystack.len() + 1];
    for (i, &nc) in needle.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &hc) in haystack.iter().enumerate() {
            let substitute = prev[j] + usize::from(nc != hc);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.into_iter().min().unwrap_or(needle.len())
}

/// How well `needle` reads as a part of `haystack`: 1.0 when it is an exact
/// substring, falling with every edit; 0.0 for an empty needle.
pub fn partial_score(needle: &str, haystack: &str) -> f64 {
    let n: Vec<char> = needle.chars().collect();
    if n.is_empty() {
        return 0.0;
    }
    let h: Vec<char> = haystack.chars().collect();
    1.0 - substring_distance(&n, &h) as f64 / n.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_maps_kazakh_and_latin_lookalikes() {
        assert_eq!(fold("Бүлінген (жарамсыз)"), fold("Булинген жарамсыз"));
        assert_eq!(fold("Число  избирателей,\nвключённых"), "число избирателеи включенных");
        // Latin 'o', 'p', 'c' read for Cyrillic ones.
        assert_eq!(fold("Чиcлo гoлocoв"), fold("Число голосов"));
        assert_eq!(fold("№ 217 сайлау"), "саилау", "digits and signs dropped, й folded to и");
    }

    #[test]
    fn substring_distance_allows_free_ends() {
        let h: Vec<char> = "число избирателей включенных в списки".chars().collect();
        let n: Vec<char> = "избиратели".chars().collect();
        assert_eq!(substring_distance(&n, &h), 1);
        assert_eq!(substring_distance(&[], &h), 0);
    }

    #[test]
    fn misspelt_ocr_lines_match_their_label_best() {
        let voters = fold("Дауыс беруге арналған тізімдерге енгізілген сайлаушылардың саны Число избирателей, включённых в списки для голосования");
        let issued = fold(
            "Сайлау бюллетеньдерін алған сайлаушылардың саны Число избирателей, получивших избирательные бюллетени",
        );
        // Typical OCR damage: dropped and swapped letters, Latin look-alikes.
        let ocr = fold("Чиcло избиратeлей, вкпючённых в cписки для голосoвания");
        assert!(partial_score(&ocr, &voters) > 0.9, "{}", partial_score(&ocr, &voters));
        assert!(partial_score(&ocr, &voters) > partial_score(&ocr, &issued) + 0.2);
    }
}
