using Diffuse.Likelihood;

namespace Diffuse.Cli;

/// <summary>What <c>eval nll</c> computes: the estimates, on how many images (points), with which ODE settings, batch size, seed and weights.</summary>
public sealed record NllSettings(int Images, bool Elbo, bool Ode, ProbabilityFlowOptions Flow, int BatchSize, long Seed, bool UseEma);
