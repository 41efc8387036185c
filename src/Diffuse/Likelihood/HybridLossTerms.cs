using TorchSharp;

namespace Diffuse.Likelihood;

/// <summary>Per-sample [B] terms of the hybrid objective: <see cref="Loss"/> = <see cref="Mse"/> + <see cref="Vb"/>, Vb already weighted by lambda T.</summary>
public sealed record HybridLossTerms(torch.Tensor Loss, torch.Tensor Mse, torch.Tensor Vb);
