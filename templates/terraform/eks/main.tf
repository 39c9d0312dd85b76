# VPC + EKS + one managed node group, from the community terraform-aws-modules (versions pinned exactly: a
# module bump is a reviewed change, proven by test/templates/eks-module.test.ts against the module sources).
# platctl copies this module into ~/.platctl/<cluster>/terraform and runs init → plan → apply there
# (docs/steps/cluster.md).
#
# What platctl's later steps own, and this module therefore leaves alone:
# - the IAM OIDC provider and the IRSA roles (step iam): enable_irsa = false;
# - who may use the cluster (step access-entries): authentication_mode allows access entries, and only the
#   identity that creates the cluster gets admin here.

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  # Private subnets: the first az_count /20s (of a /16) for nodes and pods. Public subnets: /24s carved from
  # the last /20, so the two never overlap for any az_count the validation allows (up to 6 zones).
  private_subnets = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets  = [for i in range(var.az_count) : cidrsubnet(cidrsubnet(var.vpc_cidr, 4, 15), 4, i)]
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"

  name = var.cluster_name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway   = true
  single_nat_gateway   = true
  enable_dns_hostnames = true

  # Subnet discovery for the AWS Load Balancer Controller.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }

  tags = var.tags
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = var.cluster_name
  kubernetes_version = var.kubernetes_version

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.private_subnets

  endpoint_public_access       = var.endpoint_public_access
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  endpoint_private_access      = true

  # Access entries (step access-entries) with the aws-auth ConfigMap still honoured.
  authentication_mode                      = "API_AND_CONFIG_MAP"
  enable_cluster_creator_admin_permissions = true

  # platctl's iam step creates the OIDC provider and the IRSA roles.
  enable_irsa = false

  addons = {
    coredns    = {}
    kube-proxy = {}
    vpc-cni = {
      before_compute = true
      # Tenant NetworkPolicies (add-tenant) are only enforced when the VPC CNI runs its network policy agent.
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
    }
    eks-pod-identity-agent = {}
  }

  eks_managed_node_groups = {
    default = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_desired_size
    }
  }

  tags = var.tags
}
