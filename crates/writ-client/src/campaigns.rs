//! The campaign operations: create, launch, list and show campaigns; the caller's review
//! queue, decisions and delegations.

use reqwest::Method;
use writ_api::{
    CampaignDetail, CampaignItemList, CampaignItemQuery, CampaignItemView, CampaignPage,
    CampaignQuery, CampaignView, DecideItemBody, DelegateItemBody, NewCampaignBody,
};

use crate::{Client, ClientError};

impl Client {
    /// The campaigns, newest first.
    pub async fn campaigns(&self, query: &CampaignQuery) -> Result<CampaignPage, ClientError> {
        self.get(&["campaigns"], query).await
    }

    /// One campaign with its progress and a page of its items.
    pub async fn campaign(
        &self,
        id: &str,
        query: &CampaignItemQuery,
    ) -> Result<CampaignDetail, ClientError> {
        self.get(&["campaigns", id], query).await
    }

    /// Creates a draft campaign as the token's principal.
    pub async fn create_campaign(
        &self,
        body: &NewCampaignBody,
    ) -> Result<CampaignView, ClientError> {
        self.send(Method::POST, &["campaigns"], body).await
    }

    /// Launches a draft campaign: its grants in scope become items for their reviewers.
    pub async fn launch_campaign(&self, id: &str) -> Result<CampaignDetail, ClientError> {
        self.send(Method::POST, &["campaigns", id, "launch"], &())
            .await
    }

    /// A page of the caller's pending campaign items, soonest due first.
    pub async fn my_campaign_items(
        &self,
        query: &CampaignItemQuery,
    ) -> Result<CampaignItemList, ClientError> {
        self.get(&["campaign-items"], query).await
    }

    /// Keeps or revokes an item as its reviewer.
    pub async fn decide_campaign_item(
        &self,
        item: &str,
        body: &DecideItemBody,
    ) -> Result<CampaignItemView, ClientError> {
        self.send(Method::POST, &["campaign-items", item, "decide"], body)
            .await
    }

    /// Hands an item to another eligible principal.
    pub async fn delegate_campaign_item(
        &self,
        item: &str,
        body: &DelegateItemBody,
    ) -> Result<CampaignItemView, ClientError> {
        self.send(Method::POST, &["campaign-items", item, "delegate"], body)
            .await
    }
}
