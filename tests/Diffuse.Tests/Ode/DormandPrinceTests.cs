using Diffuse.Ode;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Ode;

public class DormandPrinceTests
{
    private static double MaxError(Tensor a, Tensor b) => (a - b).abs().max().item<double>();

    [Fact]
    public void SolvesLinearDecayAndGrowthWithinTheTolerance()
    {
        using var scope = NewDisposeScope();
        var rates = tensor(new[] { -1.0, -3.0, 0.5 });
        var y0 = tensor(new[] { 1.0, 2.0, -1.0 });
        var solution = DormandPrince.Solve((t, y) => y * rates, y0, 0, 2, new OdeTolerances(1e-8, 1e-10));
        var exact = y0 * (rates * 2).exp();
        Assert.True(MaxError(exact, solution.State) < 1e-6, $"error {MaxError(exact, solution.State)}");
        // FSAL: one evaluation at the start, one for the starting step, six per attempted step.
        Assert.Equal(2 + 6 * (solution.AcceptedSteps + solution.RejectedSteps), solution.FunctionEvaluations);
    }

    [Fact]
    public void IntegratesBackwardsInTimeAndTighterTolerancesCostMoreEvaluations()
    {
        using var scope = NewDisposeScope();
        // y = (cos t, -sin t) solves y' = (y1, -y0); start at t = 5 and run back to t = 0, where y = (1, 0).
        var y5 = tensor(new[] { Math.Cos(5), -Math.Sin(5) });
        Tensor Rotation(double t, Tensor y) => stack([y[1], -y[0]]);
        var loose = DormandPrince.Solve(Rotation, y5, 5, 0, new OdeTolerances(1e-4, 1e-6));
        var tight = DormandPrince.Solve(Rotation, y5, 5, 0, new OdeTolerances(1e-9, 1e-11));
        var exact = tensor(new[] { 1.0, 0.0 });
        double looseError = MaxError(exact, loose.State), tightError = MaxError(exact, tight.State);
        Assert.True(looseError < 1e-3, $"loose error {looseError}");
        Assert.True(tightError < 1e-8, $"tight error {tightError}");
        Assert.True(tight.FunctionEvaluations > 2 * loose.FunctionEvaluations, $"NFE {tight.FunctionEvaluations} vs {loose.FunctionEvaluations}");
    }

    [Fact]
    public void TimeDependentRightHandSideReachesTheEndExactly()
    {
        using var scope = NewDisposeScope();
        // y' = 2 t y, y(0) = 1: y(t) = exp(t^2).
        var solution = DormandPrince.Solve((t, y) => y * (2 * t), ones(1, float64), 0, 1.5, new OdeTolerances(1e-9, 1e-12));
        Assert.True(Math.Abs(solution.State.item<double>() - Math.Exp(2.25)) < 1e-6 * Math.Exp(2.25));
    }

    [Theory]
    [InlineData(0.0, 1e-5)]
    [InlineData(1e-5, -1.0)]
    [InlineData(double.NaN, 1e-5)]
    public void NonPositiveToleranceIsAOneLineError(double rtol, double atol)
    {
        using var y0 = ones(2, float64);
        var error = Assert.Throws<DiffuseException>(() => DormandPrince.Solve((t, y) => -y, y0, 0, 1, new OdeTolerances(rtol, atol)));
        Assert.Contains("tolerance", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
