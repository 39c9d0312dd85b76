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

output "cluster_security_group_id" {
  description = "Security group EKS attaches to the control plane ENIs."
  value       = module.eks.cluster_security_group_id
}

output "node_security_group_id" {
  description = "Security group shared by the nodes."
  value       = module.eks.node_security_group_id
}
