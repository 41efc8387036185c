using TorchSharp;

namespace Diffuse.Process;

/// <summary>
/// The state of a <see cref="LossAwareTimestepSampler"/>: <see cref="Losses"/> [T, K] float64 (each timestep's last K
/// losses, oldest first) and <see cref="Counts"/> [T] int64 (how many of them are filled), for exact resume.
/// </summary>
public sealed record LossHistory(torch.Tensor Losses, torch.Tensor Counts);
