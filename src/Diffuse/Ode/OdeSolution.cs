using TorchSharp;

namespace Diffuse.Ode;

/// <summary>
/// The state at the end of an ODE solve, with its cost: <see cref="FunctionEvaluations"/> (NFE, every call of
/// the right-hand side, the initial step-size probe included), accepted and rejected steps.
/// </summary>
public sealed record OdeSolution(torch.Tensor State, int FunctionEvaluations, int AcceptedSteps, int RejectedSteps);
