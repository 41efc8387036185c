using TorchSharp;

namespace Diffuse.Process;

/// <summary>Timesteps [B] (int64) and the importance weights [B] (float64) that keep the weighted loss an unbiased estimate of the uniform one.</summary>
public sealed record TimestepDraw(torch.Tensor Timesteps, torch.Tensor Weights);
