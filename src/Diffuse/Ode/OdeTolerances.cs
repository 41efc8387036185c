namespace Diffuse.Ode;

/// <summary>
/// Error tolerances of an adaptive solver: a step is accepted when the RMS over the state's elements of
/// err / (<see cref="Absolute"/> + <see cref="Relative"/> max(|y_n|, |y_n+1|)) is at most 1 (Hairer et al.,
/// Solving ODEs I, Sec. II.4, Eq. 4.11; SciPy's <c>solve_ivp</c>). score_sde uses 1e-5 for both.
/// </summary>
public sealed record OdeTolerances(double Relative = 1e-5, double Absolute = 1e-5, int MaxSteps = 100_000)
{
    /// <summary>Throws a one-line <see cref="DiffuseException"/> unless both tolerances are positive and finite.</summary>
    public void Validate()
    {
        if (!(Relative > 0 && double.IsFinite(Relative)))
            throw new DiffuseException($"the relative tolerance (rtol) must be positive, got {Relative}");
        if (!(Absolute > 0 && double.IsFinite(Absolute)))
            throw new DiffuseException($"the absolute tolerance (atol) must be positive, got {Absolute}");
        if (MaxSteps < 1)
            throw new DiffuseException($"the ODE solver needs at least one step, got max_steps = {MaxSteps}");
    }
}
