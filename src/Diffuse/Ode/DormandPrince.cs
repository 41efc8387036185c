using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Ode;

/// <summary>
/// The adaptive explicit Runge-Kutta pair of Dormand &amp; Prince 1980 (RK5(4)7M, FSAL), over a tensor state:
/// propagates the fifth-order solution and controls the step with the embedded fourth-order one (Hairer et al.,
/// Solving ODEs I, Table II.5.2 and Sec. II.4), as SciPy's <c>RK45</c>, which score_sde uses for the
/// probability-flow ODE.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>c, a, b</term><description>the Butcher tableau; b is also the last row of a (first same as last)</description></item>
/// <item><term>e</term><description>b - b-hat, the error weights of the embedded 4th-order solution</description></item>
/// <item><term>h</term><description>the signed step; integration may run backwards (t1 &lt; t0)</description></item>
/// </list>
/// The new step is h 0.9 err^(-1/5), its growth clamped to [0.2, 10] (no growth right after a rejection);
/// the first step comes from Hairer's starting-step algorithm (Sec. II.4), which costs one evaluation.
/// </remarks>
public static class DormandPrince
{
    private static readonly double[] C = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1];
    private static readonly double[][] A =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ];
    private static readonly double[] E = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40];
    private const double Safety = 0.9, MinFactor = 0.2, MaxFactor = 10;

    /// <summary>
    /// Integrates dy/dt = <paramref name="f"/>(t, y) from (<paramref name="t0"/>, <paramref name="y0"/>) to
    /// <paramref name="t1"/>. Every step runs in its own dispose scope; the returned state belongs to the caller.
    /// </summary>
    public static OdeSolution Solve(Func<double, Tensor, Tensor> f, Tensor y0, double t0, double t1, OdeTolerances tolerances)
    {
        ArgumentNullException.ThrowIfNull(f);
        tolerances.Validate();
        if (!double.IsFinite(t0) || !double.IsFinite(t1))
            throw new DiffuseException($"the ODE's time interval must be finite, got [{t0}, {t1}]");
        var y = y0.detach().clone();
        if (t0 == t1) return new OdeSolution(y, 0, 0, 0);
        double direction = Math.Sign(t1 - t0), t = t0;
        int nfe = 0, accepted = 0, rejected = 0;
        Tensor Eval(double time, Tensor state) { nfe++; return f(time, state); }

        var k1 = Eval(t, y);
        double h = direction * InitialStep(Eval, t, y, k1, tolerances, Math.Abs(t1 - t), direction);
        bool lastRejected = false;
        while (direction * (t1 - t) > 0)
        {
            if (accepted + rejected >= tolerances.MaxSteps)
                throw new DiffuseException($"the ODE solver took {tolerances.MaxSteps} steps without reaching t = {t1} (stopped at t = {t}); loosen rtol/atol");
            if (direction * (t + h - t1) > 0) h = t1 - t;
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            var (yNew, kLast, errorNorm) = Step(Eval, t, y, k1, h, tolerances);
            if (errorNorm <= 1)
            {
                t = direction * (t1 - (t + h)) <= Math.Abs(h) * 1e-12 ? t1 : t + h;
                y.Dispose(); k1.Dispose();
                y = yNew.MoveToOuterDisposeScope();
                k1 = kLast.MoveToOuterDisposeScope();
                accepted++;
                var growth = errorNorm == 0 ? MaxFactor : Math.Clamp(Safety * Math.Pow(errorNorm, -0.2), MinFactor, MaxFactor);
                h *= lastRejected ? Math.Min(1, growth) : growth;
                lastRejected = false;
            }
            else
            {
                rejected++;
                h *= Math.Max(MinFactor, Safety * Math.Pow(errorNorm, -0.2));
                lastRejected = true;
            }
            if (!double.IsFinite(errorNorm) || Math.Abs(h) < 1e-14 * Math.Max(1, Math.Abs(t)))
                throw new DiffuseException($"the ODE solver's step size vanished at t = {t} (error norm {errorNorm}); the right-hand side may be non-finite or stiff");
        }
        k1.Dispose();
        return new OdeSolution(y, nfe, accepted, rejected);
    }

    /// <summary>One Dormand-Prince step from (t, y) with k1 = f(t, y): the 5th-order state, f at it (the next k1), and the scaled error norm.</summary>
    private static (Tensor Y, Tensor KLast, double ErrorNorm) Step(Func<double, Tensor, Tensor> f, double t, Tensor y, Tensor k1, double h, OdeTolerances tol)
    {
        var k = new Tensor[7];
        k[0] = k1;
        for (int stage = 1; stage < 7; stage++)
        {
            var increment = k[0] * A[stage][0];
            for (int j = 1; j < stage; j++)
                if (A[stage][j] != 0) increment = increment + k[j] * A[stage][j];
            var state = y + increment * h;
            if (stage == 6) { k[6] = f(t + h, state); return (state, k[6], ErrorNorm(k, y, state, h, tol)); }
            k[stage] = f(t + C[stage] * h, state);
        }
        throw new InvalidOperationException("unreachable");
    }

    private static double ErrorNorm(Tensor[] k, Tensor y, Tensor yNew, double h, OdeTolerances tol)
    {
        var error = k[0] * E[0];
        for (int j = 2; j < 7; j++) error = error + k[j] * E[j];
        var scale = torch.maximum(y.abs(), yNew.abs()) * tol.Relative + tol.Absolute;
        return (error * h / scale).square().mean().sqrt().to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>Hairer's starting step (Solving ODEs I, Sec. II.4, "Starting Step Size"), for order 5; one evaluation of f.</summary>
    private static double InitialStep(Func<double, Tensor, Tensor> f, double t, Tensor y, Tensor f0, OdeTolerances tol, double span, double direction)
    {
        using var scope = NewDisposeScope();
        var scale = y.abs() * tol.Relative + tol.Absolute;
        double Rms(Tensor v) => v.square().mean().sqrt().to_type(ScalarType.Float64).item<double>();
        double d0 = Rms(y / scale), d1 = Rms(f0 / scale);
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        var f1 = f(t + direction * h0, y + f0 * (direction * h0));
        double d2 = Rms((f1 - f0) / scale) / h0;
        double h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 1.0 / 5);
        return Math.Min(Math.Min(100 * h0, h1), span);
    }
}
