# Provider and module requirements. platctl generates the backend block (platctl_backend.tf) and its
# settings (platctl.tfbackend) from platform.yaml terraform.backend: none is hard-coded here.
# The aws provider: >= 6.28 is what terraform-aws-eks 21.19.0 and terraform-aws-vpc 6.6.0 require; < 7 keeps
# a future major out until it is proven. The exact version used is recorded in .terraform.lock.hcl.
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
