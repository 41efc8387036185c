using Diffuse.Sampling;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class LmsSchedulerTests : SigmaSchedulerContractTests<LmsScheduler>
{
    protected override string Name => "lms";

    [Fact]
    public void CoefficientsIntegrateTheLagrangeBasis()
    {
        double[] sigmas = [8, 4, 2, 1, 0.5];
        // The basis sums to 1, so the coefficients sum to the interval's length.
        var sum = Enumerable.Range(0, 4).Sum(k => LmsScheduler.Coefficient(sigmas, 3, 4, k));
        Assert.Equal(-0.5, sum, 1e-12);
        // Order 1 is Euler; order 2 through (1, 2) over [1, 0.5]: integral of (tau - 2) / (1 - 2) = 0.625.
        Assert.Equal(-0.5, LmsScheduler.Coefficient(sigmas, 3, 1, 0), 1e-12);
        Assert.Equal(-0.625, LmsScheduler.Coefficient(sigmas, 3, 2, 0), 1e-12);
    }
}
