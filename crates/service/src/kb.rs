//! The knowledge base: articles in categories, searched by the bot and
//! published on the public help center.

use super::documents::KbCategory;
use super::{Ids, Service, ServiceError, audit, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use switchboard_core::ids::WorkspaceId;
use switchboard_store::{Article, ArticleHit, Change, Role};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub category: Option<u64>,
    #[serde(default)]
    pub published: bool,
}

/// A search hit as the API shows it.
#[derive(Debug, Serialize)]
pub struct HitView {
    pub id: u64,
    pub title: String,
    pub snippet: String,
    pub score: f64,
    pub category: Option<u64>,
}

impl From<ArticleHit> for HitView {
    fn from(h: ArticleHit) -> Self {
        HitView {
            id: h.article.id,
            title: h.article.title,
            snippet: h.snippet,
            score: h.score,
            category: h.article.category,
        }
    }
}

const MAX_TITLE: usize = 300;
const MAX_BODY: usize = 100_000;

impl Service {
    pub async fn articles(&self, ws: WorkspaceId, published_only: bool) -> Result<Vec<Article>, ServiceError> {
        Ok(self.store().articles(ws).await?.into_iter().filter(|a| a.published || !published_only).collect())
    }

    pub async fn article(&self, ws: WorkspaceId, id: u64, published_only: bool) -> Result<Article, ServiceError> {
        self.store()
            .article(ws, id)
            .await?
            .filter(|a| a.published || !published_only)
            .ok_or_else(|| ServiceError::NotFound(format!("article {id}")))
    }

    pub async fn search_articles(
        &self,
        ws: WorkspaceId,
        q: &str,
        published_only: bool,
        limit: u32,
    ) -> Result<Vec<HitView>, ServiceError> {
        let hits = self.store().search_articles(ws, q, published_only, limit.clamp(1, 50)).await?;
        Ok(hits.into_iter().map(HitView::from).collect())
    }

    pub async fn put_article(&self, p: &Principal, id: Option<u64>, b: ArticleBody) -> Result<Article, ServiceError> {
        require(p, Role::Supervisor)?;
        let title = super::names::line("title", &b.title, MAX_TITLE)?;
        let body = super::names::text("body", &b.body, MAX_BODY)?;
        if let Some(c) = b.category {
            self.document::<KbCategory>(p.workspace, c)
                .await
                .map_err(|_| ServiceError::invalid("category", format!("no category {c}")))?;
        }
        let now = self.now();
        let created_at = match id {
            Some(id) => self.article(p.workspace, id, false).await?.created_at,
            None => now,
        };
        let article = Article {
            workspace: p.workspace,
            id: id.unwrap_or_else(|| Ids::next(&self.ids().article)),
            category: b.category,
            title,
            body,
            published: b.published,
            created_at,
            updated_at: now,
        };
        let target = format!("article/{}", article.id);
        self.commit_and_publish(vec![Change::PutArticle(article.clone()), audit::entry(p, now, "put_article", target)])
            .await?;
        Ok(article)
    }

    pub async fn delete_article(&self, p: &Principal, id: u64) -> Result<(), ServiceError> {
        require(p, Role::Supervisor)?;
        self.article(p.workspace, id, false).await?;
        let now = self.now();
        self.commit_and_publish(vec![
            Change::DeleteArticle { workspace: p.workspace, id },
            audit::entry(p, now, "delete_article", format!("article/{id}")),
        ])
        .await?;
        Ok(())
    }
}
