import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiProblem } from '../api/problem';
import { ProblemAlert } from './ProblemAlert';

describe('ProblemAlert', () => {
  it('shows the problem title, its detail and the next step', () => {
    const problem = new ApiProblem(402, {
      type: '/problems/payment-required',
      title: 'A paid plan is required',
      detail: 'backtest exports need a paid plan',
    });
    render(<ProblemAlert error={problem} action="Export" />);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Export: A paid plan is required');
    expect(alert).toHaveTextContent('backtest exports need a paid plan');
    expect(alert).toHaveTextContent('Choose a paid plan on the Account page.');
  });

  it('maps validation errors to the fields they name', () => {
    const problem = new ApiProblem(422, {
      type: '/problems/validation',
      errors: [{ loc: ['body', 'grid', 'lines'], msg: 'Input should be less than or equal to 500' }],
    });
    expect(problem.fieldErrors()).toEqual({ lines: 'Input should be less than or equal to 500' });
  });

  it('renders nothing without an error', () => {
    const { container } = render(<ProblemAlert error={null} />);
    expect(container).toBeEmptyDOMElement();
  });
});
