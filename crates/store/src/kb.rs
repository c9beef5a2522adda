//! Knowledge-base articles: written by upsert and delete (see `edits`), read
//! within one workspace, and searched by their words.
//!
//! The search index and its query language differ per backend (FTS5 on
//! SQLite, a `tsvector` column on PostgreSQL), so each backend module gives
//! a [`FullText`]: how to spell a term and the statement. Everything else is
//! here, once: turning what a customer typed into terms, so that no input
//! can be a syntax error; which words count for [`ArticleHit::coverage`];
//! and turning the backend's relevance into [`ArticleHit::score`].

use crate::edits::{Deletable, retire};
use crate::records::{Article, ArticleHit};
use crate::rows::{self, db_id, db_opt_id, flag, get, id, time};
use crate::tables::{Query, Record, Table};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use switchboard_core::ids::WorkspaceId;

impl Record for Article {
    const TABLE: Table = Table {
        name: "articles",
        columns: &["id", "workspace_id", "category", "title", "body", "published", "created_at", "updated_at"],
        key: &["id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id)?)
            .bind(db_id(self.workspace.0)?)
            .bind(db_opt_id(self.category)?)
            .bind(self.title.as_str())
            .bind(self.body.as_str())
            .bind(self.published)
            .bind(self.created_at.0)
            .bind(self.updated_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("article {} in another workspace", self.id)
    }
}

impl Deletable for Article {
    type Gone<'a> = (WorkspaceId, u64);

    // On SQLite a trigger takes the article out of the search index; on
    // PostgreSQL the index is a column of the row.
    const DELETE: &'static [&'static str] = &[
        retire!("article", "articles", "workspace_id = $1 AND id = $2"),
        "DELETE FROM articles WHERE workspace_id = $1 AND id = $2",
    ];

    fn bind_gone<'q>((ws, id): (WorkspaceId, u64), q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(ws.0)?).bind(db_id(id)?))
    }
}

/// The columns [`article_row`] decodes. The search statements select them too,
/// under the same names.
macro_rules! article_columns {
    () => {
        "id, workspace_id, category, title, body, published, created_at, updated_at"
    };
}

pub(crate) use article_columns;

fn article_row(row: &AnyRow) -> Result<Article, StoreError> {
    Ok(Article {
        workspace: WorkspaceId(id(row, "workspace_id")?),
        id: id(row, "id")?,
        category: rows::opt_id(row, "category")?,
        title: get(row, "title")?,
        body: get(row, "body")?,
        published: flag(row, "published")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// Full-text search on one backend.
pub(crate) struct FullText {
    /// One word of the query as a term of the backend's query language,
    /// matching that word alone (stemmed). The word is made only of letters
    /// and digits (see [`Terms`]); the term is bound, never spliced.
    pub(crate) term: fn(&str) -> String,
    /// What joins terms into a query matching an article with any of them.
    pub(crate) or: &'static str,
    /// The statement for a query whose words that count for coverage are
    /// `counted` many. Parameters: `$1` the workspace, `$2` the query (the
    /// terms of all words, joined by `or`), `$3` whether only published
    /// articles are wanted, `$4` the limit, and from `$5` on the term of
    /// each counted word. Columns: those of `article_columns!`, then
    /// `relevance` (above 0 for every hit, the higher the better; the
    /// rows ordered by it, best first, ties by id), `snippet` (the body
    /// around the matches, marked as [`ArticleHit::snippet`] says) and
    /// `covered` (how many of the counted words the article matches).
    pub(crate) sql: fn(counted: usize) -> String,
}

/// At most this many distinct words of a query are searched for: a pasted
/// essay makes a long statement, not a better search.
const MAX_WORDS: usize = 32;

/// Words shorter than this do not count for coverage (they are searched
/// for all the same).
const COUNTED_LEN: usize = 3;

/// Words neither searched for nor counted: the English stop words of the
/// Snowball project, which is the list PostgreSQL's `english` configuration
/// ignores. Dropping the same words on SQLite makes both backends search
/// for, and count, the same words.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves",
    "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their",
    "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are",
    "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
    "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to", "from", "up",
    "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when",
    "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no",
    "nor", "not", "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don",
    "should", "now",
];

/// The words of a query the search looks for.
#[derive(Debug, PartialEq)]
struct Terms {
    /// Distinct, lower-cased, in the order given, stop words left out: runs
    /// of letters and digits, so that quotes, operators and other
    /// punctuation are only ever separators.
    words: Vec<String>,
    /// Those of `words` that count for coverage.
    counted: Vec<String>,
}

impl Terms {
    fn of(query: &str) -> Terms {
        let mut words: Vec<String> = Vec::new();
        for word in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let word = word.to_lowercase();
            if !STOP_WORDS.contains(&word.as_str()) && !words.contains(&word) {
                words.push(word);
                if words.len() == MAX_WORDS {
                    break;
                }
            }
        }
        let counted = words.iter().filter(|w| w.chars().count() >= COUNTED_LEN).cloned().collect();
        Terms { words, counted }
    }
}

/// The score of a hit whose backend relevance is `r` (see [`ArticleHit`]):
/// above 0 and below 1, growing with `r`.
fn score(r: f64) -> f64 {
    if r == f64::INFINITY {
        return 1.0;
    }
    // NaN is not above 0 either.
    let r = if r > 0.0 { r } else { 0.0 };
    (r / (1.0 + r)).max(f64::MIN_POSITIVE)
}

/// `n` numbered parameters from `$5` on, each spelled by `each`, joined by
/// `sep`; `none` if `n` is 0. For the `covered` column of a [`FullText`]'s
/// statement.
pub(crate) fn per_counted_word(n: usize, each: impl Fn(String) -> String, sep: &str, none: &str) -> String {
    if n == 0 {
        return none.to_string();
    }
    (0..n).map(|i| each(format!("${}", 5 + i))).collect::<Vec<_>>().join(sep)
}

impl Store {
    /// The workspace's articles, published or not, by id.
    pub async fn articles(&self, ws: WorkspaceId) -> Result<Vec<Article>, StoreError> {
        let pool = &self.reads;
        let rows =
            sqlx::query(concat!("SELECT ", article_columns!(), " FROM articles WHERE workspace_id = $1 ORDER BY id"))
                .bind(db_id(ws.0)?)
                .fetch_all(pool)
                .await?;
        rows::all(&rows, article_row)
    }

    pub async fn article(&self, ws: WorkspaceId, id: u64) -> Result<Option<Article>, StoreError> {
        let pool = &self.reads;
        let row =
            sqlx::query(concat!("SELECT ", article_columns!(), " FROM articles WHERE workspace_id = $1 AND id = $2"))
                .bind(db_id(ws.0)?)
                .bind(db_id(id)?)
                .fetch_optional(pool)
                .await?;
        row.as_ref().map(article_row).transpose()
    }

    /// The workspace's articles matching any word of `query` in their title
    /// or body (stemmed: `refunds` finds `refund`), best first, at most
    /// `limit`; only published ones if `published_only`.
    ///
    /// `query` is what a customer typed, taken as plain words: quotes,
    /// operators and other punctuation separate words and mean nothing
    /// else, so no input is a syntax error. English stop words (`how`,
    /// `do`, `I`, `my`…) are left out, and only the first 32 distinct words
    /// count; a query with no word left finds nothing. See [`ArticleHit`]
    /// for what `score` and `coverage` mean.
    pub async fn search_articles(
        &self,
        ws: WorkspaceId,
        query: &str,
        published_only: bool,
        limit: u32,
    ) -> Result<Vec<ArticleHit>, StoreError> {
        let (pool, full_text) = (&self.reads, &self.full_text);
        let terms = Terms::of(query);
        if terms.words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let matched: Vec<String> = terms.words.iter().map(|w| (full_text.term)(w)).collect();
        let sql = (full_text.sql)(terms.counted.len());
        let mut q = sqlx::query(&sql)
            .bind(db_id(ws.0)?)
            .bind(matched.join(full_text.or))
            .bind(published_only)
            .bind(i64::from(limit));
        for word in &terms.counted {
            q = q.bind((full_text.term)(word));
        }
        let rows = q.fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                let covered = id(row, "covered")?;
                Ok(ArticleHit {
                    article: article_row(row)?,
                    score: score(get(row, "relevance")?),
                    coverage: if terms.counted.is_empty() { 0.0 } else { covered as f64 / terms.counted.len() as f64 },
                    snippet: get(row, "snippet")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(query: &str) -> Vec<String> {
        Terms::of(query).words
    }

    #[test]
    fn queries_become_plain_words() {
        assert_eq!(words("How do I reset my password?"), ["reset", "password"]);
        assert_eq!(words("\"unbalanced"), ["unbalanced"]);
        assert_eq!(words("AND OR NOT * - ( ) : ^ NEAR"), ["near"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("Refund refund REFUNDS"), ["refund", "refunds"]);
        assert_eq!(words("e-mail 4G"), ["e", "mail", "4g"]);
        assert_eq!(words(&"word ".repeat(100)), ["word"]);
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(words(&many).len(), MAX_WORDS);
    }

    #[test]
    fn only_words_of_three_letters_or_more_count() {
        let t = Terms::of("tv no signal at all, ünï");
        assert_eq!(t.words, ["tv", "signal", "ünï"]);
        assert_eq!(t.counted, ["signal", "ünï"]);
    }

    #[test]
    fn scores_are_above_zero_and_below_one() {
        assert_eq!(score(1.0), 0.5);
        assert!(score(3.0) > score(1.0));
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300] {
            let s = score(r);
            assert!(s > 0.0 && s <= 1.0, "{r} gives {s}");
        }
    }

    #[test]
    fn stop_words_are_lower_case_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for w in STOP_WORDS {
            assert_eq!(*w, w.to_lowercase());
            assert!(seen.insert(*w), "{w} twice");
        }
        assert_eq!(STOP_WORDS.len(), 127, "PostgreSQL's english.stop");
    }

    #[test]
    fn one_parameter_per_counted_word() {
        assert_eq!(per_counted_word(0, |p| p, " + ", "0"), "0");
        assert_eq!(per_counted_word(2, |p| format!("f({p})"), " + ", "0"), "f($5) + f($6)");
    }
}
