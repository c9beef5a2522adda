//! Knowledge-base articles and their full-text search, on both stores.

#[macro_use]
mod common;

use common::*;
use std::sync::Arc;
use switchboard_core::ids::WorkspaceId;
use switchboard_store::*;

both!(
    articles_round_trip_overwrite_and_delete,
    articles_never_move_between_workspaces,
    search_finds_words_in_title_or_body_with_stemming,
    search_ranks_a_title_above_a_body,
    search_takes_any_input_as_plain_words,
    search_leaves_out_drafts_when_asked,
    search_stays_in_its_workspace,
    search_follows_updates_and_deletes,
    coverage_counts_the_words_that_matter,
    search_limits_and_marks_its_snippets,
);

const WS: WorkspaceId = WorkspaceId(1);
const WS2: WorkspaceId = WorkspaceId(2);

async fn commit(s: &Store, changes: Vec<Change>) {
    s.commit(changes).await.expect("commit");
}

/// Nine articles in workspace 1 (the last a draft) and one in workspace 2.
/// No word searched for below is in more than half of them: bm25 gives such
/// a word next to no weight.
fn corpus() -> Vec<Article> {
    let mut draft = article(
        9,
        1,
        "Refunds for subscriptions (draft)",
        "Subscriptions are refunded pro rata for the unused months.",
    );
    draft.published = false;
    draft.category = Some(100);
    vec![
        article(1, 1, "Refund policy", "You can ask for your money back within 30 days of purchase."),
        article(2, 1, "Shipping times", "Parcels leave our warehouse within two days. Tracking numbers come by email."),
        article(
            3,
            1,
            "Reset your password",
            "Click 'Forgot password' on the login page and follow the link we email you.",
        ),
        article(4, 1, "Invoices", "Download every invoice as a PDF from the billing page."),
        article(5, 1, "Opening hours", "Our support team answers chats on weekdays from 9 to 5."),
        article(
            6,
            1,
            "Damaged parcel",
            "If a parcel arrives damaged, send us a photo and we refund it or send a new one.",
        ),
        article(7, 1, "Two-factor login", "Protect your account with an authenticator app."),
        article(8, 1, "Gift cards", "Gift cards never expire and work in every shop."),
        draft,
        article(20, 2, "Refund policy", "Workspace two refunds within 14 days."),
    ]
}

async fn seed(s: &Store) {
    let mut changes = vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))];
    changes.extend(corpus().into_iter().map(Change::PutArticle));
    commit(s, changes).await;
}

async fn ids(s: &Store, ws: WorkspaceId, query: &str, published_only: bool) -> Vec<u64> {
    let hits = s.search_articles(ws, query, published_only, 50).await.unwrap_or_else(|e| panic!("{query:?}: {e}"));
    hits.into_iter().map(|h| h.article.id).collect()
}

async fn articles_round_trip_overwrite_and_delete(s: &Arc<Store>) {
    seed(s).await;
    let all = corpus();
    let mine: Vec<Article> = all.iter().filter(|a| a.workspace == WS).cloned().collect();
    assert_eq!(s.articles(WS).await.unwrap(), mine);
    assert_eq!(s.article(WS, 9).await.unwrap().as_ref(), Some(&all[8]), "drafts and categories round-trip");
    assert_eq!(s.article(WS, 99).await.unwrap(), None);

    // A put replaces the whole article.
    let mut changed = article(1, 1, "Refund rules", "Quoted 'text', \"quotes\" and ünïcödé — kept as given.");
    changed.published = false;
    changed.category = Some(7);
    changed.updated_at = ts(99_999);
    commit(s, vec![Change::PutArticle(changed.clone())]).await;
    assert_eq!(s.article(WS, 1).await.unwrap(), Some(changed.clone()));
    let mut back = changed.clone();
    back.category = None;
    back.published = true;
    commit(s, vec![Change::PutArticle(back.clone())]).await;
    assert_eq!(s.article(WS, 1).await.unwrap(), Some(back));

    commit(s, vec![Change::DeleteArticle { workspace: WS, id: 1 }]).await;
    assert_eq!(s.article(WS, 1).await.unwrap(), None);
    assert_eq!(s.articles(WS).await.unwrap().len(), mine.len() - 1);
    // Deleting what is not there is no error.
    commit(s, vec![Change::DeleteArticle { workspace: WS, id: 1 }]).await;
    // A delete then a put of the same article in one batch puts it back.
    commit(s, vec![Change::DeleteArticle { workspace: WS, id: 2 }, Change::PutArticle(all[1].clone())]).await;
    assert_eq!(s.article(WS, 2).await.unwrap().as_ref(), Some(&all[1]));
    assert_eq!(ids(s, WS, "warehouse", true).await, vec![2]);
}

async fn articles_never_move_between_workspaces(s: &Arc<Store>) {
    seed(s).await;
    let all = corpus();
    // Workspace 2 puts workspace 1's article 3: refused, and nothing of it
    // reaches the row or the index.
    let hijack = article(3, 2, "Hijacked", "Hijacked body");
    match s.commit(vec![Change::PutArticle(hijack)]).await {
        Err(StoreError::Conflict(what)) => assert!(what.contains("another workspace"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(s.article(WS, 3).await.unwrap().as_ref(), Some(&all[2]));
    assert_eq!(s.article(WS2, 3).await.unwrap(), None);
    assert_eq!(ids(s, WS, "hijacked", false).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS2, "hijacked", false).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS, "password", true).await, vec![3]);

    // Nor does a delete from workspace 2 reach it.
    commit(s, vec![Change::DeleteArticle { workspace: WS2, id: 3 }]).await;
    assert_eq!(s.article(WS, 3).await.unwrap().as_ref(), Some(&all[2]));
    assert_eq!(ids(s, WS, "password", true).await, vec![3]);

    // Every read keeps to its workspace.
    assert_eq!(s.articles(WS2).await.unwrap(), vec![all[9].clone()]);
    assert_eq!(s.article(WS2, 1).await.unwrap(), None);
    assert_eq!(s.article(WS, 20).await.unwrap(), None);
}

async fn search_finds_words_in_title_or_body_with_stemming(s: &Arc<Store>) {
    seed(s).await;
    // A word of the body, in any case.
    assert_eq!(ids(s, WS, "warehouse", true).await, vec![2]);
    assert_eq!(ids(s, WS, "WAREHOUSE", true).await, vec![2]);
    // A word of the title only.
    assert_eq!(ids(s, WS, "shipping", true).await, vec![2]);
    // Stemming both ways: `refunds` finds `refund`, `refund` finds `refunds`.
    let refunds = ids(s, WS, "refunds", true).await;
    assert_eq!(sorted(&refunds), vec![1, 6]);
    assert_eq!(sorted(&ids(s, WS, "refund", false).await), vec![1, 6, 9]);
    assert_eq!(ids(s, WS, "passwords", true).await, vec![3]);
    assert_eq!(ids(s, WS, "parcels", true).await.len(), 2, "parcel and parcels");
    // A question as a customer types it: its words are searched, the stop
    // words left out.
    let hits = s.search_articles(WS, "How do I reset my password?", true, 10).await.unwrap();
    assert_eq!(hits.first().map(|h| h.article.id), Some(3));
    assert_eq!(hits[0].coverage, 1.0);
    // Any one word is enough.
    assert_eq!(sorted(&ids(s, WS, "warehouse authenticator", true).await), vec![2, 7]);
    assert_eq!(ids(s, WS, "nothing like this anywhere", true).await, Vec::<u64>::new());
}

fn sorted(ids: &[u64]) -> Vec<u64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids
}

async fn search_ranks_a_title_above_a_body(s: &Arc<Store>) {
    seed(s).await;
    // Article 1 has `refund` in its title only, article 6 in its body only.
    let hits = s.search_articles(WS, "refund", true, 10).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.article.id).collect::<Vec<_>>(), vec![1, 6]);
    assert!(hits[0].score > hits[1].score, "{hits:?}");
    for h in &hits {
        assert!(h.score > 0.0 && h.score <= 1.0, "score {} out of (0, 1]", h.score);
        assert!((0.0..=1.0).contains(&h.coverage));
    }
    // The same holds the other way round.
    commit(
        s,
        vec![
            Change::PutArticle(article(10, 1, "Loyalty points", "Points expire after a year; gift vouchers do not.")),
            Change::PutArticle(article(11, 1, "Vouchers", "Redeem a code at checkout.")),
        ],
    )
    .await;
    assert_eq!(ids(s, WS, "voucher", true).await, vec![11, 10]);
}

async fn search_takes_any_input_as_plain_words(s: &Arc<Store>) {
    seed(s).await;
    let long = "refund ".repeat(2_000) + &"word ".repeat(2_000);
    let nothing = [
        "",
        " ",
        "\"",
        "\"\"",
        "\"unbalanced",
        "*",
        "AND",
        "OR",
        "NOT",
        "AND OR NOT *",
        "-",
        "--",
        "(",
        ")",
        "()",
        ":",
        "^",
        "'",
        "''",
        "\\",
        "%",
        "_",
        "{",
        "}",
        "[",
        "]",
        "|",
        "&",
        "!",
        "<->",
        "@@",
        ";",
        "; DROP TABLE articles;",
        "😀",
        "\0",
        "NEAR(",
        "a b c",
        "how do I",
        "the of and",
    ];
    for query in nothing {
        let hits = s.search_articles(WS, query, false, 10).await.unwrap_or_else(|e| panic!("{query:?}: {e}"));
        assert_eq!(hits, vec![], "{query:?}");
    }
    let refund = [
        "refund",
        "\"refund",
        "refund\"",
        "\"refund\"",
        "-refund",
        "refund*",
        "title:refund",
        "body : refund",
        "NEAR(refund other)",
        "refund AND NOT refund",
        "refund OR",
        "^refund",
        "refund's",
        "ReFuNd!!!",
        "(refund",
        "refund & | ! <-> :*",
        "x' OR '1'='1 refund",
        long.as_str(),
    ];
    for query in refund {
        let found = ids(s, WS, query, true).await;
        assert_eq!(sorted(&found), vec![1, 6], "{query:?}");
    }
    // Other scripts are words too.
    commit(s, vec![Change::PutArticle(article(12, 1, "Ünïcödé straße", "Kundendienst für Ärger: 日本語"))]).await;
    assert_eq!(ids(s, WS, "ÜNÏCÖDÉ", true).await, vec![12]);
    assert_eq!(ids(s, WS, "Kundendienst?", true).await, vec![12]);
}

async fn search_leaves_out_drafts_when_asked(s: &Arc<Store>) {
    seed(s).await;
    assert_eq!(ids(s, WS, "subscriptions", true).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS, "subscriptions", false).await, vec![9]);
    let hits = s.search_articles(WS, "subscriptions", false, 10).await.unwrap();
    assert_eq!(hits[0].article, corpus()[8], "a hit carries the whole article");
    // Publishing it makes it found.
    let mut published = corpus()[8].clone();
    published.published = true;
    commit(s, vec![Change::PutArticle(published)]).await;
    assert_eq!(ids(s, WS, "subscriptions", true).await, vec![9]);
}

async fn search_stays_in_its_workspace(s: &Arc<Store>) {
    seed(s).await;
    assert_eq!(sorted(&ids(s, WS, "refund policy", false).await), vec![1, 6, 9]);
    assert_eq!(ids(s, WS2, "refund policy", false).await, vec![20]);
    assert_eq!(ids(s, WS2, "warehouse", false).await, Vec::<u64>::new());
    assert_eq!(ids(s, WorkspaceId(3), "refund", false).await, Vec::<u64>::new());
}

async fn search_follows_updates_and_deletes(s: &Arc<Store>) {
    seed(s).await;
    // New words are found, old ones no longer.
    let moved = article(2, 1, "Delivery times", "Parcels leave our depot within two days.");
    commit(s, vec![Change::PutArticle(moved)]).await;
    assert_eq!(ids(s, WS, "warehouse", true).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS, "shipping", true).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS, "depot", true).await, vec![2]);
    assert_eq!(ids(s, WS, "delivery", true).await, vec![2]);

    // Several puts of one article in a batch: the last one is indexed.
    commit(
        s,
        vec![Change::PutArticle(article(2, 1, "First", "alpha")), Change::PutArticle(article(2, 1, "Second", "beta"))],
    )
    .await;
    assert_eq!(ids(s, WS, "alpha first depot", true).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS, "beta", true).await, vec![2]);

    // A deleted article is found no more.
    commit(s, vec![Change::DeleteArticle { workspace: WS, id: 1 }]).await;
    assert_eq!(ids(s, WS, "refund", true).await, vec![6]);
    assert_eq!(ids(s, WS, "policy", true).await, Vec::<u64>::new());
    assert_eq!(ids(s, WS2, "policy", true).await, vec![20]);
    // Put back, it is found again.
    commit(s, vec![Change::PutArticle(corpus()[0].clone())]).await;
    assert_eq!(ids(s, WS, "policy", true).await, vec![1]);
}

async fn coverage_counts_the_words_that_matter(s: &Arc<Store>) {
    seed(s).await;
    let coverage = |hits: &[ArticleHit], id: u64| hits.iter().find(|h| h.article.id == id).map(|h| h.coverage);

    let hits = s.search_articles(WS, "refund parcel photo", true, 10).await.unwrap();
    assert_eq!(hits[0].article.id, 6, "the article with all three words first");
    assert_eq!(coverage(&hits, 6), Some(1.0));
    assert_eq!(coverage(&hits, 1), Some(1.0 / 3.0));
    // `parcels` in article 2 is `parcel`, stemmed.
    assert_eq!(coverage(&hits, 2), Some(1.0 / 3.0));

    // Stemmed, and stop words and short words do not count.
    let hits = s.search_articles(WS, "How can I get REFUNDS on a TV?", true, 10).await.unwrap();
    assert_eq!(coverage(&hits, 1), Some(0.5), "get, refunds: {hits:?}");
    let hits = s.search_articles(WS, "refunds, tv", true, 10).await.unwrap();
    assert_eq!(coverage(&hits, 1), Some(1.0));
    // Words repeated count once.
    let hits = s.search_articles(WS, "refund refund warehouse", true, 10).await.unwrap();
    assert_eq!(coverage(&hits, 1), Some(0.5));
    assert_eq!(coverage(&hits, 2), Some(0.5));
    // A query with no word that counts finds what it finds, covering 0.
    let hits = s.search_articles(WS, "9", true, 10).await.unwrap();
    assert_eq!(hits.iter().map(|h| (h.article.id, h.coverage)).collect::<Vec<_>>(), vec![(5, 0.0)]);
}

async fn search_limits_and_marks_its_snippets(s: &Arc<Store>) {
    seed(s).await;
    let hits = s.search_articles(WS, "refund", true, 1).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.article.id).collect::<Vec<_>>(), vec![1]);
    assert_eq!(s.search_articles(WS, "refund", true, 0).await.unwrap(), vec![]);

    // The body around the match, the match marked.
    let hits = s.search_articles(WS, "warehouse", true, 10).await.unwrap();
    assert!(hits[0].snippet.contains("**warehouse**"), "{:?}", hits[0].snippet);
    assert!(hits[0].snippet.contains("Parcels leave our"), "{:?}", hits[0].snippet);
    // Stemmed matches are marked as they are written.
    let hits = s.search_articles(WS, "arrive", true, 10).await.unwrap();
    assert!(hits[0].snippet.contains("**arrives**"), "{:?}", hits[0].snippet);
    // A match in the title only: the snippet is the start of the body.
    let hits = s.search_articles(WS, "policy", true, 10).await.unwrap();
    assert!(hits[0].snippet.starts_with("You can ask for your money back"), "{:?}", hits[0].snippet);
    assert!(!hits[0].snippet.contains("**"), "{:?}", hits[0].snippet);
}
