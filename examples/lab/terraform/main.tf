# Lab only. In a real account the AWS provider creates the VPC, the security groups and the EKS cluster
# (templates/terraform/eks). Here a terraform_data resource stands in for all of them: its local-exec
# provisioners run moto-eks.mjs, which makes the same objects in moto (AWS_ENDPOINT_URL) on create and
# deletes them on destroy, so later steps (access, iam, network) find a real cluster, VPC and security
# groups to work on.
#
# moto picks random ids, so the script hands them back in a small state file (moto-eks.tfstate, outputs
# only) that the module reads with the built-in terraform_remote_state data source. Its path mentions
# terraform_data.eks.id, which is unknown until the resource exists: that defers the read to apply time,
# after the provisioner ran, so the outputs are "known after apply" on the first plan and stable afterwards.

resource "terraform_data" "eks" {
  # Everything the destroy-time provisioner needs must be reachable through self.
  input = {
    cluster_name       = var.cluster_name
    region             = var.region
    kubernetes_version = var.kubernetes_version
    vpc_cidr           = var.vpc_cidr
    az_count           = var.az_count
    tags               = var.tags
  }

  # A new name, region or network means a new cluster, as with the real module.
  triggers_replace = [var.cluster_name, var.region, var.vpc_cidr]

  provisioner "local-exec" {
    command = "\"$${PLATCTL_NODE:-node}\" moto-eks.mjs create"
    environment = {
      CLUSTER_NAME       = self.input.cluster_name
      REGION             = self.input.region
      KUBERNETES_VERSION = self.input.kubernetes_version
      VPC_CIDR           = self.input.vpc_cidr
      AZ_COUNT           = self.input.az_count
      TAGS_JSON          = jsonencode(self.input.tags)
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "\"$${PLATCTL_NODE:-node}\" moto-eks.mjs delete"
    environment = {
      CLUSTER_NAME = self.input.cluster_name
      REGION       = self.input.region
    }
  }
}

data "terraform_remote_state" "moto" {
  backend = "local"
  config = {
    path = "${path.module}/moto-eks${substr(terraform_data.eks.id, 0, 0)}.tfstate"
  }
  # Used when the file is gone (the working dir was lost): outputs go empty rather than failing the plan.
  defaults = {
    cluster_name                         = var.cluster_name
    endpoint                             = ""
    oidc_issuer                          = ""
    vpc_id                               = ""
    cluster_additional_security_group_id = ""
    node_shared_security_group_id        = ""
    private_subnet_ids                   = []
    public_subnet_ids                    = []
  }
}
