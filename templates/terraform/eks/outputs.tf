# platctl records these as the cluster step's outputs (cluster_name → clusterName, …). The lab stand-in
# (examples/lab/terraform) has the same outputs.

output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "oidc_issuer" {
  description = "The cluster's OIDC issuer URL (for IRSA)."
  value       = module.eks.cluster_oidc_issuer_url
}

output "vpc_id" {
  description = "The cluster's VPC."
  value       = module.vpc.vpc_id
}

output "cluster_additional_security_group_id" {
  description = "The additional security group this module creates and attaches to the control plane's ENIs (the eks module's cluster_security_group_id). Rules naming the control plane as a source reference it."
  value       = module.eks.cluster_security_group_id
}

output "cluster_primary_security_group_id" {
  description = "The security group EKS itself creates for the cluster (the console's 'Cluster security group'); EKS deletes it with the cluster."
  value       = module.eks.cluster_primary_security_group_id
}

output "node_shared_security_group_id" {
  description = "The security group this module creates and attaches to every node of its managed node groups (the eks module's node_security_group_id)."
  value       = module.eks.node_security_group_id
}

output "private_subnet_ids" {
  description = "The private subnets, one per zone (the nodes and the control plane's ENIs; internal load balancers)."
  value       = module.vpc.private_subnets
}

output "public_subnet_ids" {
  description = "The public subnets, one per zone (internet-facing load balancers)."
  value       = module.vpc.public_subnets
}
